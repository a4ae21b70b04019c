export * from './bundle';
export * from './round';
export * from './plotly';
export * from './png';
export * from './progress';
export * from './table';
export { writeFileAtomic } from '../io';
