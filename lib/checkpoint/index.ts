/** Checkpoint files (path-based): a model's config and named variables in one file. */
export { saveCheckpoint, loadCheckpoint, fileCheckpointHandler, nonFiniteVariables, checkJson } from './checkpoint';
export type { Checkpointable, SaveOptions, HandlerOptions, FileIOHandler } from './checkpoint';
