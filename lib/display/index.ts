/** Display data for notebooks: figures (plotly), tables, live progress, MIME bundles. Browser-safe (PNG images: lib/node/png.ts). */
export * from './bundle';
export * from './round';
export * from './plotly';
export * from './progress';
export * from './table';
