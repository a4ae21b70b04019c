/**
 * Checkpoint files (path-based): a model's config and named variables in one file. Internal: the
 * public checkpoint API is lib/notebook's saveCheckpoint / loadCheckpoint / loadOrTrain (a name
 * under a folder, data/checkpoints/ unless `dir` says otherwise), a thin layer over these.
 */
export { saveCheckpoint, loadCheckpoint, fileCheckpointHandler, nonFiniteVariables, checkJson } from './checkpoint';
export type { Checkpointable, SaveOptions, HandlerOptions, FileIOHandler } from './checkpoint';
