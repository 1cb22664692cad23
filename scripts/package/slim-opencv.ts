/**
 * A second build of the @u4/opencv4nodejs addon for the image package, linked against only the OpenCV modules
 * face detection needs. The dev addon links every module Debian ships (highgui pulls in Qt, videoio FFmpeg and
 * GStreamer, imgcodecs GDAL), and their libraries would not fit FC's 500 MB code limit.
 *
 * opencv4nodejs links every libopencv_* it finds in OPENCV_LIB_DIR and compiles a binding only where
 * opencv2/opencv_modules.hpp defines HAVE_OPENCV_<MODULE>, so the build gets a lib dir with just these modules
 * and an include dir whose opencv_modules.hpp names just these. The result is cached under .tmp/opencv-slim/.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** objdetect (CascadeClassifier) links calib3d and dnn, and calib3d links features2d and flann. */
export const SLIM_OPENCV_MODULES = ['core', 'imgproc', 'objdetect', 'calib3d', 'dnn', 'features2d', 'flann'] as const;

const ADDON_PACKAGE = 'node_modules/@u4/opencv4nodejs';
const MODULES_HEADER = 'opencv_modules.hpp';

function pkgConfig(...args: string[]): string {
  return execFileSync('pkg-config', [...args, 'opencv4'], { encoding: 'utf8' }).trim();
}

/** Symlinks to libopencv_<module>.so and its versioned names (whatever the soversion), for the listed modules. */
function linkLibraries(systemLibDir: string, libDir: string): void {
  fs.mkdirSync(libDir);
  for (const module of SLIM_OPENCV_MODULES) {
    const base = `libopencv_${module}.so`;
    const names = fs.readdirSync(systemLibDir).filter((name) => name === base || name.startsWith(`${base}.`));
    if (!names.includes(base)) throw new Error(`${base} is not in ${systemLibDir}: install libopencv-dev`);
    for (const name of names) fs.symlinkSync(path.join(systemLibDir, name), path.join(libDir, name));
  }
}

/** The system's opencv2/ headers, except an opencv_modules.hpp that declares only the listed modules. */
function shadowIncludes(systemIncludeDir: string, includeDir: string): void {
  const from = path.join(systemIncludeDir, 'opencv2');
  const to = path.join(includeDir, 'opencv2');
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    if (name !== MODULES_HEADER) fs.symlinkSync(path.join(from, name), path.join(to, name));
  }
  const header = fs.readFileSync(path.join(from, MODULES_HEADER), 'utf8').replace(/^#define HAVE_OPENCV_\w+\n/gm, '');
  const defines = SLIM_OPENCV_MODULES.map((module) => `#define HAVE_OPENCV_${module.toUpperCase()}\n`).join('');
  fs.writeFileSync(path.join(to, MODULES_HEADER), `${header}\n${defines}`);
}

/**
 * The slim addon's path, built on first use (a few minutes) and then reused while the opencv4nodejs version, the
 * OpenCV version, the module list and Node's ABI stay the same.
 */
export function slimOpenCvAddon(rootDir: string, log: (line: string) => void): string {
  const addonPackage = path.join(rootDir, ADDON_PACKAGE);
  const { version } = JSON.parse(fs.readFileSync(path.join(addonPackage, 'package.json'), 'utf8')) as { version: string };
  const key = `${version}-opencv${pkgConfig('--modversion')}-abi${process.versions.modules}-${SLIM_OPENCV_MODULES.join('+')}`;
  const dir = path.join(rootDir, '.tmp/opencv-slim', key);
  const addon = path.join(dir, 'opencv4nodejs.node');
  if (fs.existsSync(addon)) return addon;

  log(`package: building the slim OpenCV addon (${SLIM_OPENCV_MODULES.join(', ')}; a few minutes, once) in ${path.relative(rootDir, dir)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  // lib/ stays after the build: the addon's RUNPATH names it, so ldd here resolves through the same symlinks.
  const libDir = path.join(dir, 'lib');
  const includeDir = path.join(dir, 'include');
  fs.mkdirSync(dir, { recursive: true });
  linkLibraries(pkgConfig('--variable=libdir'), libDir);
  shadowIncludes(pkgConfig('--variable=includedir'), includeDir);

  // A copy inside the repo: its own dependencies (nan, @u4/opencv-build) resolve from the repo's node_modules.
  const staging = path.join(dir, 'opencv4nodejs');
  fs.cpSync(addonPackage, staging, { recursive: true, filter: (src) => src !== path.join(addonPackage, 'build') });
  const buildLog = path.join(dir, 'build.log');
  const out = fs.openSync(buildLog, 'w');
  try {
    execFileSync('npx', ['--no-install', 'node-gyp', 'rebuild'], {
      cwd: staging,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        OPENCV4NODEJS_DISABLE_AUTOBUILD: '1',
        OPENCV_INCLUDE_DIR: includeDir,
        OPENCV_LIB_DIR: libDir,
        OPENCV_BIN_DIR: '/usr/bin',
        JOBS: 'max',
      },
    });
  } catch {
    throw new Error(`the slim OpenCV addon did not build; see ${buildLog}`);
  } finally {
    fs.closeSync(out);
  }
  // Renamed into place last, so an interrupted build is never mistaken for a cached one.
  fs.renameSync(path.join(staging, 'build/Release/opencv4nodejs.node'), addon);
  fs.rmSync(staging, { recursive: true, force: true });
  return addon;
}
