// Finds the Electron binary for `npm start` (scripts/start.mjs). The one place outside the
// Electron process that touches the `electron` package: in plain Node it exports the path of
// its binary, and throws when the binary was never downloaded.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The Electron binary's path when the `electron` package and its binary are installed, else null. */
export function electronBinary(root) {
  const require = createRequire(join(root, 'package.json'));
  try {
    require.resolve('electron');
  } catch {
    return null;
  }
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}
