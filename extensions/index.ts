export { DealgateCard } from './card/DealgateCard';
export { SettingsPage } from './settings/SettingsPage';
export { DealDeskHome } from './home/DealDeskHome';
export * from './contract/api';
