export { DealgateCard } from './card/DealgateCard';
export * from './contract/api';
