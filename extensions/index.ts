export { DealgateCard } from './card/DealgateCard';
