/**
 * Overlap: concurrent invocations on one NAS folder (FC's timer firing while a run is still going, or FC
 * retrying an async call). Exactly one may crawl; the others skip. A killed holder's lease lapses and is taken
 * over once it expires, also when the holder ran on another instance (played by another PID namespace,
 * where the dead-PID shortcut cannot apply).
 */
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_LEASE_TTL_MS } from '../../src/nas/lease';
import { assertFigure } from './support/figures';
import { startGeneratedSite, type GeneratedSite } from './support/generated-site';
import { tempDir } from './support/paths';
import { crawlArgs, crawled, crawlOnce, describeRun, finished, spawnCli, type CrawlRequest, type CrawlRun } from './support/processes';
import { countHits } from './support/site-server';
import { sleep, waitUntil } from './support/timing';

const AREA = 'crawler: overlap';
const REPEATS = 10;
const CONTENDERS = 4;

let site: GeneratedSite;
let tmp: ReturnType<typeof tempDir>;
let request: CrawlRequest;
let cli: { connectLog: string };

test.before(async () => {
  tmp = tempDir('overlap');
  // 300 ms per response keeps each holder busy for seconds, far longer than the contenders take to start.
  site = await startGeneratedSite({ pages: 600, images: 40, latencyMs: 300 });
  request = { nas: path.join(tmp.dir, 'nas'), url: site.seed, pages: 24, timeoutSeconds: 120, payload: { allowPrivateNetworks: ['127.0.0.0/8'] } };
  cli = { connectLog: path.join(tmp.dir, 'connect.jsonl') };
});

test.after(async () => {
  await site.close();
  tmp.remove();
});

/**
 * Whether any two of these runs were inside runCrawl at the same time. The spans end at process exit, a little
 * after the lease was released, so runs that merely followed each other may look overlapping; runs that each
 * loaded the state the previous one left (totals that add up in turn) did not overlap.
 */
function overlapping(runs: CrawlRun[]): boolean {
  const spans = runs.map((r) => [r.endedAt - (r.result?.durationMs ?? 0), r.endedAt]);
  const inTime = spans.some(([a0, a1], i) => spans.some(([b0, b1], j) => i < j && a0 < b1 && b0 < a1));
  const byTotal = runs.map((r) => r.result!).sort((a, b) => a.totalCrawlCount - b.totalCrawlCount);
  const inTurn = byTotal.every((r, i) => i === 0 || r.totalCrawlCount - r.pagesCrawledThisRun === byTotal[i - 1].totalCrawlCount);
  return inTime && !inTurn;
}

test(`${CONTENDERS} concurrent invocations, ${REPEATS} times: exactly one crawls, no page twice`, { timeout: 5 * 60_000 }, async (t) => {
  let exactlyOne = 0;
  let repeats = 0;
  for (let attempt = 1; repeats < REPEATS && attempt <= REPEATS + 5; attempt++) {
    const runs = await Promise.all(Array.from({ length: CONTENDERS }, () => crawlOnce(request, cli)));
    const crawlers = runs.filter(crawled);
    // On a busy machine a contender may only start once the holder is done; that is not an overlap, so retry.
    if (crawlers.length > 1 && !overlapping(crawlers)) {
      t.diagnostic(`attempt ${attempt}: the runs did not overlap in time (${runs.map(describeRun).join(' | ')}); repeated`);
      continue;
    }
    repeats++;
    const skipped = runs.filter((r) => r.result?.skipped === 'locked').length;
    if (crawlers.length === 1 && skipped === CONTENDERS - 1) exactlyOne++;
    else t.diagnostic(`repeat ${repeats}: ${runs.map(describeRun).join(' | ')}`);
  }
  const pagesFetched = [...site.hits].filter(([p]) => p.startsWith('/p/'));
  const twice = pagesFetched.filter(([, n]) => n > 1);

  assertFigure({
    area: AREA,
    promise: `${CONTENDERS} concurrent runs: exactly one crawls, the others skip`,
    figure: `${exactlyOne}/${REPEATS} repeats`,
    holds: exactlyOne === REPEATS,
  });
  assertFigure({
    area: AREA,
    promise: 'no work item processed twice',
    figure: `${pagesFetched.length} pages fetched, ${twice.length} more than once${twice.length ? ': ' + twice.slice(0, 3).map(([p, n]) => `${p} x${n}`).join(', ') : ''}`,
    holds: pagesFetched.length > 0 && twice.length === 0,
  });
});

/** The host PID of the process that unshare forked (PID 1 of its namespace). */
function forkedChild(pid: number): number | undefined {
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    return children[0] ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

test('a killed holder on another instance: its lease is taken over once it expires', { timeout: 3 * 60_000 }, async (t) => {
  const ttlSeconds = DEFAULT_LEASE_TTL_MS / 1000;
  const before = countHits(site.hits, /^\/p\//);
  const holder = spawnCli(crawlArgs({ ...request, pages: 1000, timeoutSeconds: 300 }), { ...cli, wrapper: ['unshare', '--pid', '--fork', '--kill-child=SIGKILL'] });
  const exit = finished(holder);
  const crawling = await waitUntil(() => countHits(site.hits, /^\/p\//) >= before + 3, 30_000, exit);
  const crawler = forkedChild(holder.pid!);
  if (crawler) process.kill(crawler, 'SIGKILL');
  holder.kill('SIGKILL');
  const killedAt = Date.now();
  await exit;

  const right = await crawlOnce(request, cli);
  let takeoverSeconds: number | undefined;
  let last = right;
  while (takeoverSeconds === undefined && Date.now() - killedAt < (ttlSeconds + 30) * 1000) {
    const started = Date.now();
    last = await crawlOnce(request, cli);
    if (crawled(last)) takeoverSeconds = (started - killedAt) / 1000;
    else await sleep(1000);
  }
  t.diagnostic(`holder crawling: ${crawling}; run right after the kill: ${describeRun(right)}; last: ${describeRun(last)}`);

  assertFigure({
    area: AREA,
    promise: 'killed holder: lease held until it expires, then taken over',
    figure: `taken over after ${takeoverSeconds?.toFixed(1) ?? 'never'} s (TTL ${ttlSeconds} s); run right after the kill: ${describeRun(right)}`,
    holds: crawling && right.result?.skipped === 'locked' && takeoverSeconds !== undefined && takeoverSeconds <= ttlSeconds + 5,
  });
});
