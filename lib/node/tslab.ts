/**
 * Displays in the tslab (Jupyter) kernel: finds tslab's current display writer and hands it to
 * lib/display/bundle.ts when this module loads (the package's main entry loads it).
 */
import path from 'node:path';
import { DisplayWriter, setDisplayWriter } from '../display/bundle';

/** tslab's current display writer, or null when not running inside a tslab kernel. */
export function tslabWriter(): DisplayWriter | null {
  try {
    const tslabDir = path.dirname(require.resolve('tslab/package.json'));
    // Only look at the module if the kernel already loaded it (never start tslab ourselves).
    const file = require.resolve(path.join(tslabDir, 'dist', 'jupyter.js'));
    const mod = require.cache[file]?.exports as { lastWriteDisplayData?: DisplayWriter | null } | undefined;
    return mod?.lastWriteDisplayData ?? null;
  } catch {
    return null;
  }
}

setDisplayWriter(tslabWriter);
