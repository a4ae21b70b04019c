/** The VQ-VAE of DL-Demos (github.com/SingleZombie/DL-Demos) with a pluggable bottleneck: model and training loop. */
export { VQVAE, ResidualBlock, VQVAE_OPTIONS, VQVAE_FORWARD_OPTIONS } from './model';
export type { VQVAEOptions, VQVAEConfig, VQVAEForward, VQVAELoss } from './model';
export { checkBottleneck, bottleneckVariables } from './bottleneck';
export type { Bottleneck, BottleneckOutput, CodebookHealth } from './bottleneck';
export { VQVAETrainer, evaluateVQVAE, encodeDataset, codeStats, BATCHED_OPTIONS } from './train';
export type { StepMetrics } from './train';
