/**
 * `npm run package`: builds dist/crawler and dist/image, each a self-contained `code` dir for s.yaml.
 *
 * - crawler (built-in nodejs20): compiled JS + production node_modules without OpenCV.
 * - image (custom.debian12): the same JS + production node_modules with the slim OpenCV addon (slim-opencv.ts;
 *   build artefacts pruned), the shared libraries the addon and Node need beyond glibc (lib/, via ldd), the
 *   cascade XMLs (cascades/), this machine's Node 20 (bin/node) and the bootstrap FC runs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { productionClosure } from './dependencies';
import { collectSharedLibraries } from './shared-libraries';
import { slimOpenCvAddon } from './slim-opencv';

const ROOT = path.resolve(__dirname, '../..');
export const OPENCV_ADDON = 'node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node';
const CASCADE_DIRS = ['node_modules/@u4/opencv4nodejs/src/lib/haarcascades', 'node_modules/@u4/opencv4nodejs/src/lib/lbpcascades'];
/**
 * Neither function needs these: the FC SDK serves only the local CLI's `remote` command, and node-gyp and nan
 * only build the OpenCV addon, which is shipped prebuilt.
 */
export const NOT_IN_ANY_FUNCTION = ['@alicloud/fc2', 'node-gyp', 'nan'];
export const OPENCV_PACKAGES = ['@u4/opencv4nodejs', '@u4/opencv-build'];

/** Build leftovers and sources that no running function reads (opencv4nodejs ships its C++ tree and objects). */
const PRUNED = /(^|\/)(obj\.target|\.deps)(\/|$)|\.(cc|cpp|h|hpp|c|o|d|gyp|gypi|mk|map|d\.ts)$|(^|\/)Makefile$/;

export interface PackageOptions {
  rootDir?: string;
  outDir?: string;
  log?: (line: string) => void;
}

export interface BuiltPackage {
  name: 'crawler' | 'image';
  dir: string;
  bytes: number;
  files: number;
}

function compile(rootDir: string, buildDir: string): void {
  fs.rmSync(buildDir, { recursive: true, force: true });
  const tsc = path.join(rootDir, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(rootDir, 'tsconfig.build.json'), '--outDir', buildDir], {
    cwd: rootDir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** Non-TypeScript files next to the sources (templates, data) that the compiled code may read at run time. */
function copySourceAssets(rootDir: string, target: string): void {
  for (const top of ['src', 'functions']) {
    fs.cpSync(path.join(rootDir, top), path.join(target, top), {
      recursive: true,
      filter: (src) => fs.statSync(src).isDirectory() || !src.endsWith('.ts'),
    });
  }
}

function copyNodeModules(rootDir: string, target: string, exclude: readonly string[]): void {
  for (const relative of productionClosure(rootDir, exclude)) {
    const from = path.join(rootDir, relative);
    const nested = path.join(from, 'node_modules');
    fs.cpSync(from, path.join(target, relative), {
      recursive: true,
      // Nested node_modules are copied as packages of their own, and only if the closure needs them.
      filter: (src) => src !== nested && !PRUNED.test(path.relative(from, src)),
    });
  }
}

function copyFlat(files: readonly string[], targetDir: string): void {
  fs.mkdirSync(targetDir, { recursive: true });
  for (const file of files) fs.copyFileSync(file, path.join(targetDir, path.basename(file)));
}

function measure(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
    files += 1;
  }
  return { bytes, files };
}

function assemble(rootDir: string, buildDir: string, target: string, exclude: readonly string[]): void {
  fs.rmSync(target, { recursive: true, force: true });
  fs.cpSync(buildDir, target, { recursive: true });
  copySourceAssets(rootDir, target);
  copyNodeModules(rootDir, target, exclude);
}

function addImageRuntime(rootDir: string, target: string, log: (line: string) => void): void {
  const node = fs.realpathSync(process.execPath);
  const nodeTarget = path.join(target, 'bin/node');
  fs.mkdirSync(path.dirname(nodeTarget), { recursive: true });
  fs.copyFileSync(node, nodeTarget);
  fs.chmodSync(nodeTarget, 0o755);

  // Replaces the dev addon copied with node_modules, which links every OpenCV module.
  const addon = slimOpenCvAddon(rootDir, log);
  fs.mkdirSync(path.dirname(path.join(target, OPENCV_ADDON)), { recursive: true });
  fs.copyFileSync(addon, path.join(target, OPENCV_ADDON));

  const libraries = collectSharedLibraries([node, addon]);
  fs.mkdirSync(path.join(target, 'lib'), { recursive: true });
  // Saved under the name the loader asks for; copyFileSync follows the distribution's symlinks.
  for (const library of libraries) fs.copyFileSync(library.file, path.join(target, 'lib', library.name));

  const cascades = CASCADE_DIRS.flatMap((dir) =>
    fs.readdirSync(path.join(rootDir, dir)).filter((f) => f.endsWith('.xml')).map((f) => path.join(rootDir, dir, f)),
  );
  copyFlat(cascades, path.join(target, 'cascades'));

  const bootstrap = path.join(target, 'bootstrap');
  fs.copyFileSync(path.join(rootDir, 'scripts/package/bootstrap.sh'), bootstrap);
  fs.chmodSync(bootstrap, 0o755);
}

export function buildPackages(options: PackageOptions = {}): BuiltPackage[] {
  const rootDir = path.resolve(options.rootDir ?? ROOT);
  const outDir = path.resolve(options.outDir ?? path.join(rootDir, 'dist'));
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));

  const buildDir = path.join(outDir, '.build');
  log('package: compiling TypeScript');
  compile(rootDir, buildDir);

  const crawler = path.join(outDir, 'crawler');
  log('package: assembling dist/crawler (nodejs20)');
  assemble(rootDir, buildDir, crawler, [...NOT_IN_ANY_FUNCTION, ...OPENCV_PACKAGES]);

  const image = path.join(outDir, 'image');
  log('package: assembling dist/image (custom.debian12)');
  assemble(rootDir, buildDir, image, NOT_IN_ANY_FUNCTION);
  addImageRuntime(rootDir, image, log);
  fs.rmSync(buildDir, { recursive: true, force: true });

  const built: BuiltPackage[] = [
    { name: 'crawler', dir: crawler, ...measure(crawler) },
    { name: 'image', dir: image, ...measure(image) },
  ];
  for (const p of built) log(`package: ${path.relative(rootDir, p.dir)}: ${(p.bytes / 1e6).toFixed(1)} MB in ${p.files} files`);
  return built;
}

if (require.main === module) {
  try {
    buildPackages();
  } catch (e) {
    process.stderr.write(`package: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
