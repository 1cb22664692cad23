import fs from 'node:fs';
import path from 'node:path';

/**
 * The checkout's root (the folder with package.json and s.yaml), found from here upwards: the same whether this
 * runs as TypeScript from src/deploy/ or compiled from dist/cli/src/deploy/ (whose dist/cli/ holds a package.json
 * too, copied by tsc for the version that /healthz reports).
 */
export function checkoutRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 's.yaml'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json and s.yaml above ${from}`);
  }
}
