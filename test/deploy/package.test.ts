/**
 * `npm run package`: the two FC code dirs, built into a temp folder outside the repo (so a missing module cannot
 * be found in the repo's node_modules by walking up) and loaded there by a fresh Node process.
 * The clean-rootfs proof for the image package is `npm run verify:package` (root, debootstrap).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPackages, NOT_IN_ANY_FUNCTION, OPENCV_ADDON, OPENCV_PACKAGES, type BuiltPackage } from '../../scripts/package/build';
import { productionClosure } from '../../scripts/package/dependencies';
import { collectSharedLibraries, parseLdd } from '../../scripts/package/shared-libraries';
import { SLIM_OPENCV_MODULES, slimOpenCvAddon } from '../../scripts/package/slim-opencv';

const REPO = path.resolve(__dirname, '../..');
const DEV_ONLY = ['typescript', 'tsx', 'ajv', '@serverless-devs/s', 'playwright-core', 'autocannon', '@types/node'];
/** FC's limit on a custom runtime's unpacked code. */
const FC_CODE_LIMIT_BYTES = 500e6;
/** Libraries that only the OpenCV modules the image function leaves out (highgui, videoio, imgcodecs) pull in. */
const NOT_NEEDED_FOR_FACES = /^lib(Qt\d|gdal|avcodec|avformat|gst|opencv_(highgui|videoio|imgcodecs))/;

/** The OpenCV modules among ldd's libraries, e.g. "core" for libopencv_core.so.406. */
const openCvModules = (names: string[]) => names.flatMap((n) => /^libopencv_(\w+)\.so/.exec(n)?.[1] ?? []);

test('ldd collection of the slim addon: its OpenCV modules, libstdc++ and libgcc_s, no Qt/FFmpeg/GDAL, no glibc', () => {
  const libs = collectSharedLibraries([slimOpenCvAddon(REPO, () => {})]);
  const names = libs.map((l) => l.name);
  assert.deepEqual(openCvModules(names).sort(), [...SLIM_OPENCV_MODULES].sort());
  assert.deepEqual(names.filter((n) => NOT_NEEDED_FOR_FACES.test(n)), []);
  for (const wanted of ['libopencv_core.so.406', 'libopencv_objdetect.so.406', 'libopencv_imgproc.so.406', 'libstdc++.so.6', 'libgcc_s.so.1']) {
    assert.ok(names.includes(wanted), wanted);
  }
  for (const glibc of ['libc.so.6', 'libm.so.6', 'ld-linux-x86-64.so.2', 'linux-vdso.so.1']) assert.ok(!names.includes(glibc), glibc);
  for (const lib of libs) assert.ok(fs.existsSync(lib.file), lib.file);
});

test('an unresolvable library fails the package instead of shipping a broken one', () => {
  const output = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibopencv_core.so.406 => /usr/lib/libopencv_core.so.406 (0x00007f01)\n\tlibgone.so.1 => not found\n';
  assert.throws(() => parseLdd(output, 'addon.node'), /addon\.node needs libgone\.so\.1/);
  assert.deepEqual(parseLdd(output.split('\n').slice(0, 2).join('\n'), 'x'), [{ name: 'libopencv_core.so.406', file: '/usr/lib/libopencv_core.so.406' }]);
});

test('production closures: sharp in both, OpenCV only for the image function, no dev or build tools', () => {
  const crawler = productionClosure(REPO, [...NOT_IN_ANY_FUNCTION, ...OPENCV_PACKAGES]);
  const image = productionClosure(REPO, NOT_IN_ANY_FUNCTION);
  const has = (list: string[], name: string) => list.includes(`node_modules/${name}`);
  for (const name of ['sharp', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64', 'undici', 'cheerio', 'zod', 'robots-parser', 'ipaddr.js']) {
    assert.ok(has(crawler, name) && has(image, name), name);
  }
  for (const name of OPENCV_PACKAGES) {
    assert.ok(!has(crawler, name), `crawler must not carry ${name}`);
    assert.ok(has(image, name), `image needs ${name}`);
  }
  for (const name of [...DEV_ONLY, ...NOT_IN_ANY_FUNCTION]) {
    assert.ok(!has(crawler, name) && !has(image, name), `${name} is not for the functions`);
  }
});

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-packages-'));
after(() => fs.rmSync(out, { recursive: true, force: true }));

test('buildPackages makes two self-contained code dirs that load in a fresh Node outside the repo', () => {
  const lines: string[] = [];
  const built = buildPackages({ outDir: out, log: (l) => lines.push(l) });
  const pkg = (name: BuiltPackage['name']) => built.find((p) => p.name === name)!;
  const crawler = pkg('crawler').dir;
  const image = pkg('image').dir;
  assert.ok(lines.some((l) => /crawler: [\d.]+ MB in \d+ files/.test(l)), 'prints the crawler size');
  assert.ok(lines.some((l) => /image: [\d.]+ MB in \d+ files/.test(l)), 'prints the image size');

  const exists = (dir: string, rel: string) => fs.existsSync(path.join(dir, rel));
  assert.ok(exists(crawler, 'functions/crawler/index.js'), 's.yaml handler functions/crawler/index.handler');
  assert.ok(!exists(crawler, 'node_modules/@u4'), 'no OpenCV in the crawler');
  assert.ok(!exists(crawler, 'bin/node') && !exists(crawler, 'lib'), 'the nodejs20 runtime brings Node');
  for (const rel of ['bootstrap', 'bin/node', 'lib/libopencv_core.so.406', 'lib/libstdc++.so.6', 'cascades/haarcascade_frontalface_default.xml', 'cascades/lbpcascade_frontalface.xml', 'functions/image/server.js', 'functions/image/index.js', 'package.json', OPENCV_ADDON]) {
    assert.ok(exists(image, rel), `image: ${rel}`);
  }
  assert.ok(fs.statSync(path.join(image, 'bootstrap')).mode & 0o100, 'bootstrap is executable');
  assert.ok(!exists(image, 'node_modules/@u4/opencv4nodejs/build/Release/obj.target'), 'addon build objects are pruned');
  assert.ok(!exists(image, 'node_modules/@alicloud/fc2') && !exists(image, 'node_modules/node-gyp'));
  assert.ok(fs.readFileSync(path.join(image, OPENCV_ADDON)).equals(fs.readFileSync(slimOpenCvAddon(REPO, () => {}))), 'ships the slim addon');
  assert.deepEqual(fs.readdirSync(path.join(image, 'lib')).filter((n) => NOT_NEEDED_FOR_FACES.test(n)), []);
  assert.ok(pkg('image').bytes < FC_CODE_LIMIT_BYTES, `dist/image is ${(pkg('image').bytes / 1e6).toFixed(1)} MB unpacked; FC allows 500 MB`);

  // Each package loads its entry with only what it carries (the temp dir has no node_modules above it).
  const load = (cwd: string, node: string, script: string, env: NodeJS.ProcessEnv = {}) =>
    execFileSync(node, ['-e', script], { cwd, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...env } });
  assert.equal(load(crawler, process.execPath, "console.log(typeof require('./functions/crawler/index.js').handler)").trim(), 'function');
  const imageEnv = { LD_LIBRARY_PATH: path.join(image, 'lib'), OPENCV4NODEJS_DISABLE_AUTOBUILD: '1' };
  const loaded = load(
    image,
    path.join(image, 'bin/node'),
    "require('@u4/opencv-build').Log.silence = true; const cv = require('@u4/opencv4nodejs');" +
      " console.log(cv.version.major, typeof require('./functions/image/index.js').handler)",
    imageEnv,
  );
  assert.equal(loaded.trim(), '4 function');
  const faces = load(
    image,
    path.join(image, 'bin/node'),
    "const sharp = require('sharp'); const { detectFaces } = require('./src/image/faces.js');" +
      ` sharp(${JSON.stringify(path.join(REPO, 'assets/photos/astronaut.png'))}).raw().toBuffer({ resolveWithObject: true })` +
      '.then(({ data, info }) => detectFaces({ pixels: data, width: info.width, height: info.height, channels: info.channels }))' +
      '.then((found) => console.log(found.length))',
    { ...imageEnv, OPENCV_CASCADE_DIR: path.join(image, 'cascades') },
  );
  assert.ok(Number(faces) >= 1, `the slim addon finds the astronaut's face (found ${faces.trim()})`);
});
