/**
 * The production dependency closure of the project, read from the installed node_modules with Node's own
 * resolution rules, so a package gets exactly the installed versions it was tested with (no second install).
 */
import fs from 'node:fs';
import path from 'node:path';

interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Where `require(name)` from inside `fromDir` finds the package, walking up to `rootDir`. */
function resolvePackageDir(name: string, fromDir: string, rootDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === rootDir || path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Package dirs (relative to rootDir, e.g. "node_modules/@img/sharp-linux-x64") that the root's production
 * dependencies need, leaving out `exclude`d packages and whatever only they pulled in.
 * Optional and peer dependencies are followed when installed (sharp's prebuilt binaries are optional).
 */
export function productionClosure(rootDir: string, exclude: readonly string[] = []): string[] {
  const root = path.resolve(rootDir);
  const found = new Set<string>();
  const queue: Array<{ name: string; from: string; required: boolean }> = Object.keys(readManifest(root).dependencies ?? {})
    .filter((name) => !exclude.includes(name))
    .map((name) => ({ name, from: root, required: true }));

  while (queue.length > 0) {
    const { name, from, required } = queue.shift()!;
    const dir = resolvePackageDir(name, from, root);
    if (!dir) {
      if (required) throw new Error(`dependency ${name} (needed from ${path.relative(root, from) || 'the project'}) is not installed: run npm ci`);
      continue;
    }
    const relative = path.relative(root, dir);
    if (found.has(relative)) continue;
    found.add(relative);
    const manifest = readManifest(dir);
    const next = (deps: Record<string, string> | undefined, isRequired: boolean) =>
      Object.keys(deps ?? {})
        .filter((dep) => !exclude.includes(dep))
        .forEach((dep) => queue.push({ name: dep, from: dir, required: isRequired }));
    next(manifest.dependencies, true);
    next(manifest.optionalDependencies, false);
    next(manifest.peerDependencies, false);
  }
  return [...found].sort();
}
