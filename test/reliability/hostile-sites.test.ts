/**
 * Hostile sites, served on 127.0.0.1 with the crawler's private-network allowance limited to loopback:
 * every cap must hold, seen from the server's side (bytes sent, connection held) and in the crawler's memory.
 */
import { test } from 'node:test';
import path from 'node:path';
import { readConnectLog } from './support/connect-guard';
import { assertFigure } from './support/figures';
import { GIB, PRIVATE_TARGETS, REDIRECT_HOPS, startHostileSite, type HostileSite } from './support/hostile-site';
import { auditNas } from './support/nas-inspect';
import { tempDir } from './support/paths';
import { crawlOnce, describeRun, type CrawlRun } from './support/processes';
import { countHits } from './support/site-server';

const AREA = 'crawler: hostile sites';
const MB = 1024 * 1024;
/** How far above a plain crawl's peak RSS a hostile crawl may go and still count as flat. */
const FLAT_MB = 64;
const LOOPBACK_ONLY = { allowPrivateNetworks: ['127.0.0.0/8'] };

let site: HostileSite;
let tmp: ReturnType<typeof tempDir>;
let baselineRssMb = 0;
let runs = 0;

test.before(async () => {
  tmp = tempDir('hostile');
  site = await startHostileSite();
});

test.after(async () => {
  await site.close();
  tmp.remove();
});

/** A crawl of the hostile site into a fresh NAS folder; `saved` counts the whole images it holds afterwards. */
async function crawl(seedPath: string, pages: number, payload: Record<string, unknown> = {}, timeoutSeconds = 60): Promise<CrawlRun & { saved: number }> {
  const nas = path.join(tmp.dir, `nas-${++runs}`);
  const run = await crawlOnce(
    { nas, url: site.url + seedPath, pages, timeoutSeconds, payload: { ...LOOPBACK_ONLY, ...payload } },
    { connectLog: path.join(tmp.dir, 'connect.jsonl') },
  );
  return { ...run, saved: auditNas(nas).found.size };
}

/** The distinct reasons in the run's errorStack ("url: reason" lines), for the table. */
function reasons(run: CrawlRun): string {
  const distinct = new Set((run.result?.errorStack ?? []).map((line) => line.replace(/^\S+: /, '')));
  return [...distinct].join('; ').slice(0, 160);
}

const mb = (n: number) => `${n.toFixed(0)} MB`;

/** Peak RSS against the plain crawl's, and wall time: every hostile outcome carries both. */
function cost(run: CrawlRun): string {
  return `peak RSS ${mb(run.peakRssMb)} (plain ${mb(baselineRssMb)}), ${(run.durationMs / 1000).toFixed(1)} s`;
}

test('baseline: a plain page', { timeout: 60_000 }, async () => {
  const run = await crawl('/ok/page.html', 5);
  baselineRssMb = run.peakRssMb;
  assertFigure({ area: AREA, promise: 'baseline crawl (for the RSS comparisons)', figure: `${describeRun(run)}; peak RSS ${mb(run.peakRssMb)}`, holds: !!run.result && !run.result.error && run.result.pagesCrawledThisRun === 2 });
});

test('an endless link generator: the page and depth caps hold', { timeout: 2 * 60_000 }, async () => {
  const run = await crawl('/endless/', 60, { maxDepth: 4 });
  const r = run.result;
  assertFigure({
    area: AREA,
    promise: 'endless links: page cap (60) and depth cap (4) hold',
    figure: `${site.endlessPages()} pages served, ${r?.pagesCrawledThisRun ?? '?'} crawled, deepest ${site.maxEndlessDepth()}; ${cost(run)}`,
    holds: !!r && !r.error && r.pagesCrawledThisRun <= 60 && site.endlessPages() <= 60 && site.maxEndlessDepth() <= 4,
  });
});

test('a 1 GB response: the byte cap holds and memory stays flat', { timeout: 2 * 60_000 }, async () => {
  const run = await crawl('/seed/huge.html', 5);
  const sent = (p: string) => site.streams.filter((s) => s.path === p).reduce((a, s) => a + s.bytesSent, 0);
  const page = sent('/huge.html');
  const image = sent('/huge.png');
  assertFigure({
    area: AREA,
    promise: '1 GB page and image: byte caps hold, memory flat',
    figure: `sent ${mb(page / MB)} of the page, ${mb(image / MB)} of the image (of ${GIB / MB} MB each); ${run.saved} good image saved; ${cost(run)}`,
    holds: !!run.result && !run.result.error && page < 64 * MB && image < 64 * MB && run.peakRssMb - baselineRssMb < FLAT_MB && run.saved === 1,
  });
});

test('slow-loris responses: the timeout holds', { timeout: 3 * 60_000 }, async () => {
  // The crawler's limits: requestTimeoutMs without a byte (headers or body), 3 x requestTimeoutMs in all.
  const requestTimeoutMs = 3000;
  const limitMs = 3 * requestTimeoutMs;
  const run = await crawl('/seed/slow.html', 5, { requestTimeoutMs, retries: 0 });
  const slow = site.streams.filter((s) => s.path.startsWith('/slow'));
  const longest = Math.max(0, ...slow.map((s) => s.openMs));
  assertFigure({
    area: AREA,
    promise: `slow-loris (1 byte/s, or no headers): each request cut by its time limit (${limitMs / 1000} s)`,
    figure: `${slow.length} slow requests, longest held ${(longest / 1000).toFixed(1)} s; ${run.result?.failedCount ?? '?'} pages failed; ${run.saved} good image saved; ${cost(run)}${run.result?.error ? `; error: ${run.result.error}` : ''}`,
    holds: !!run.result && !run.result.error && slow.length >= 3 && slow.every((s) => s.openMs > 0 && s.openMs <= limitMs + 2000) && run.saved === 1,
  });
});

test('gzip bombs: the byte cap applies to the decoded size', { timeout: 2 * 60_000 }, async () => {
  const run = await crawl('/seed/bomb.html', 5);
  const r = run.result;
  assertFigure({
    area: AREA,
    promise: 'gzip bomb (1 MB -> 1 GB) page and image: refused, memory flat',
    figure: `${r?.failedCount ?? '?'} page failed; ${run.saved} good image saved; ${cost(run)}; "${reasons(run)}"`,
    holds: !!r && !r.error && r.failedCount >= 1 && run.peakRssMb - baselineRssMb < FLAT_MB && run.saved === 1,
  });
});

test('malformed HTML: parsed, the good links and images still found', { timeout: 60_000 }, async () => {
  const run = await crawl('/malformed.html', 10);
  const r = run.result;
  assertFigure({
    area: AREA,
    promise: 'malformed HTML: no crash, good link and image found',
    figure: `${describeRun(run)}; ${run.saved} image saved; child page fetched ${site.hits.get('/ok/malformed-child.html') ?? 0}x; ${cost(run)}`,
    holds: !!r && !r.error && run.saved >= 1 && (site.hits.get('/ok/malformed-child.html') ?? 0) >= 1,
  });
});

test('redirect chains and links to private addresses: refused without connecting', { timeout: 2 * 60_000 }, async () => {
  // scope "any": the address check itself must refuse, not the same-host scope.
  const run = await crawl('/seed/redirects.html', 40, { scope: 'any' });
  const hops = countHits(site.hits, /^\/redirect\//);
  const attempts = readConnectLog(path.join(tmp.dir, 'connect.jsonl')).filter((a) => !a.allowed);
  const r = run.result;
  assertFigure({
    area: AREA,
    promise: 'private targets (redirected or direct): refused, no connection attempt',
    figure: `${PRIVATE_TARGETS.length} chains of ${REDIRECT_HOPS} hops (${hops} hops served), ${r?.failedCount ?? '?'} pages failed, ${attempts.length} off-loopback connection attempts${attempts.length ? ': ' + attempts.map((a) => a.host).join(', ') : ''}; ${cost(run)}`,
    holds: !!r && !r.error && hops >= PRIVATE_TARGETS.length && attempts.length === 0 && r.failedCount >= PRIVATE_TARGETS.length,
  });
});
