/** A gated PixelCNN prior over code grids (DL-Demos layout) and its trainer. */
export { GatedPixelCNN, causalMask, PIXELCNN_OPTIONS, SAMPLE_OPTIONS } from './pixelcnn';
export type { PixelCNNOptions, PixelCNNConfig, MaskType } from './pixelcnn';
export { PixelCNNTrainer, PRIOR_TRAINER_OPTIONS } from './trainer';
export type { PriorStepMetrics, PixelCNNTrainerOptions } from './trainer';
