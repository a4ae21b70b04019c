/** Where a result came from: commit, backend, machine, versions. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { tf } from '../lib/index';

let commit: string | null = null;

/** The commit the study started from: the runner's, passed to its workers (VQ_STUDY_COMMIT), else this checkout's HEAD now. */
export function gitCommit(): string {
  if (commit === null && process.env.VQ_STUDY_COMMIT) commit = process.env.VQ_STUDY_COMMIT;
  if (commit === null) {
    try {
      const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'lib', 'studies'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      commit = dirty ? `${head}+changes` : head;
    } catch {
      commit = 'unknown';
    }
  }
  return commit;
}

export function provenance(backend: string): Record<string, unknown> {
  return {
    commit: gitCommit(), backend, tfjs: tf.version.tfjs, node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length, threads: Number(process.env.TF_NUM_INTRAOP_THREADS ?? 0) || os.cpus().length, date: new Date().toISOString(),
  };
}
