/**
 * Where the notebooks keep their files: the repository's data/ folder. The rest of the library
 * takes explicit paths; only this module guesses the repository, from where it is installed.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder above this file with a package.json (<repo>/dist/lib/notebook/ → <repo>). */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`repoRoot: no package.json above ${__dirname}`);
  }
}

/** <repo>/data/checkpoints (git-ignored): where notebooks save their models. */
export const defaultCheckpointDir = (): string => path.join(repoRoot(), 'data', 'checkpoints');

/** <repo>/data/mnist (git-ignored): where `loadMnist({ source: 'idx' })` looks for the IDX files. */
export const defaultMnistDir = (): string => path.join(repoRoot(), 'data', 'mnist');

/** <repo>/results (committed): where `npm run study` writes each study's results, and notebooks read them. */
export const defaultResultsDir = (): string => path.join(repoRoot(), 'results');
