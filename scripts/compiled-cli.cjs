// Whether dist/cli (the compiled CLI, from `npm run build`) is newer than every TypeScript source it was built from.
// bin/fc-nas-images.cjs runs it only then, so an edited checkout never runs stale code; scripts/setup.sh rebuilds
// it only when it is not.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const ENTRY = path.join(ROOT, 'dist/cli/src/local/cli.js');
const SOURCES = ['src', 'functions', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestMtimeMs(file) {
  const stat = fs.statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of fs.readdirSync(file)) newest = Math.max(newest, newestMtimeMs(path.join(file, name)));
  return newest;
}

function isFresh(root = ROOT) {
  let built;
  try {
    built = fs.statSync(path.join(root, 'dist/cli/.built')).mtimeMs;
  } catch {
    return false;
  }
  return SOURCES.every((source) => {
    try {
      return newestMtimeMs(path.join(root, source)) <= built;
    } catch (e) {
      if (e.code === 'ENOENT') return true;
      throw e;
    }
  });
}

module.exports = { ENTRY, SOURCES, isFresh };
