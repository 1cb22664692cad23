import fs from 'node:fs';
import path from 'node:path';

/**
 * The checkout's root (the folder with package.json), found from here upwards: the same whether this runs as
 * TypeScript from src/local/ or compiled from dist/cli/src/local/.
 */
export function checkoutRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${from}`);
  }
}
