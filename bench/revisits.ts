/**
 * npm run bench:revisits — what keeping a collection current costs. A generated site (5,000 pages, 1,000 images) is
 * crawled to done; then 1% of its pages get a new image and 0.5% new pages (one image each) appear, and one full
 * revisit cycle runs (every page due once). Reported per site flavour (with ETag/Last-Modified and 304s, and a
 * server with no validators at all): the new images found, and the bytes the cycle transferred against the first
 * crawl's. Then 20 rounds of 12 h in which the same 1% of pages change every round: the histogram of the revisit
 * intervals shows unchanged pages growing toward maxInterval and the changing ones shrinking toward minInterval.
 * The crawler runs in-process with a clock the bench moves; the site answers in real time on 127.0.0.1.
 * Writes bench/results/revisits.md.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readManifest } from '../src/collection/manifest';
import { parseCrawlPayload } from '../src/crawler/payload';
import { runCrawl, type CrawlResult } from '../src/crawler/run';
import { CrawlState } from '../src/crawler/state';
import { createLogger } from '../src/log';
import { StateStore } from '../src/nas/state-store';
import { startChangingSite, type ChangingSite } from '../test/crawler/changing-site';
import { machineHeader } from './lib/machine';
import { runBench } from './lib/main';
import { isSmoke } from './lib/mode';
import { markdownTable, publish, verdict } from './lib/report';

const HOUR = 3_600_000;
const PAGES = isSmoke() ? 400 : 5000;
const IMAGES = isSmoke() ? 80 : 1000;
const ROUNDS = isSmoke() ? 4 : 20;
const REFRESH = { minInterval: '1h', maxInterval: '7d', share: 0.2 };

interface Crawl {
  root: string;
  clock: { now: number };
  run(): Promise<CrawlResult>;
}

async function crawler(site: ChangingSite): Promise<Crawl> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-revisits-'));
  const clock = { now: Date.UTC(2026, 5, 1) };
  const parsed = parseCrawlPayload({ url: site.url, rootDir: root, numberOfPages: 1000, allowPrivateNetworks: ['127.0.0.1'], refresh: REFRESH }, {});
  if (!parsed.ok) throw new Error(parsed.error);
  const logger = createLogger({ bench: 'revisits' }, () => undefined);
  return {
    root,
    clock,
    run: async () => {
      const result = await runCrawl(parsed.value.config, { requestId: 'bench', deadline: Date.now() + 600_000, logger, now: () => clock.now });
      if (result.error) throw new Error(result.error);
      return result;
    },
  };
}

/** Runs until a run finds nothing due: the pages due at this clock have all been visited. */
async function runUntilIdle(crawl: Crawl): Promise<CrawlResult[]> {
  const results: CrawlResult[] = [];
  for (let run = 0; run < 100; run++) {
    const result = await crawl.run();
    results.push(result);
    if (result.idle) return results;
  }
  throw new Error('no idle run after 100 runs');
}

const sum = (results: CrawlResult[], pick: (r: CrawlResult) => number) => results.reduce((n, r) => n + pick(r), 0);
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(2);

/** Pages that change: 1% of them, spread over the site. */
const hotPages = () => Array.from({ length: Math.max(1, Math.round(PAGES / 100)) }, (_, k) => Math.floor((k * PAGES) / Math.round(PAGES / 100)) + 7).filter((i) => i < PAGES);

async function cycle(validators: boolean): Promise<{ row: (string | number)[]; site: ChangingSite; crawl: Crawl }> {
  const site = await startChangingSite({ pages: PAGES, images: IMAGES, validators });
  const crawl = await crawler(site);
  const first = await runUntilIdle(crawl);
  const firstBytes = site.bytesSent();
  const firstRequests = site.log.length;
  const firstPages = first.at(-1)!.totalCrawlCount;
  // The change: 1% of the pages get a new image, 0.5% new pages appear (one image each).
  const expected = hotPages().map((page) => site.addImage(page));
  for (let k = 0; k < Math.round(PAGES / 200); k++) {
    const page = site.addPage((k * 197 + 11) % PAGES, 1);
    expected.push(...site.imagesOn(page));
  }
  crawl.clock.now += 7 * 24 * HOUR + 1000; // past maxInterval: every page is due
  const results = await runUntilIdle(crawl);
  const bytes = site.bytesSent() - firstBytes;
  const requests = site.log.slice(firstRequests);
  const manifest = [...(await readManifest(crawl.root)).values()].flatMap((e) => e.sourceUrls);
  const found = expected.filter((src) => manifest.includes(site.origin + src)).length;
  const ratio = bytes / firstBytes;
  const row = [
    validators ? 'ETag + Last-Modified, 304 on a match' : 'no validators (every GET a whole body)',
    `${firstPages} pages, ${first.at(-1)!.totalImageDownloaded} images, ${mb(firstBytes)} MB`,
    sum(results, (r) => r.pagesRevisitedThisRun),
    sum(results, (r) => r.notModifiedThisRun),
    sum(results, (r) => r.changedThisRun),
    sum(results, (r) => r.pagesCrawledThisRun),
    requests.length,
    `${found} / ${expected.length} (${((100 * found) / expected.length).toFixed(0)}%)`,
    `${mb(bytes)} MB`,
    `${(100 * ratio).toFixed(1)}%`,
    `${verdict(found === expected.length)}; ${validators ? `≤ 10% bytes: ${verdict(ratio <= 0.1)}` : 'converges (reported)'}`,
  ];
  return { row, site, crawl };
}

const BINS: [string, number][] = [
  ['1 h (min)', 3600],
  ['≤ 3 h', 3 * 3600],
  ['≤ 12 h', 12 * 3600],
  ['≤ 1 d', 86_400],
  ['≤ 2 d', 2 * 86_400],
  ['≤ 4 d', 4 * 86_400],
  ['< 7 d', 7 * 86_400 - 1],
  ['7 d (max)', 7 * 86_400],
];

async function histogram(site: ChangingSite, crawl: Crawl): Promise<string> {
  const hot = new Set(hotPages());
  for (let round = 0; round < ROUNDS; round++) {
    for (const page of hot) site.addImage(page);
    crawl.clock.now += 12 * HOUR;
    await runUntilIdle(crawl);
  }
  const state = CrawlState.fromStore(await new StateStore(path.join(crawl.root, 'crawl-state'), crawl.root).load());
  const counts = { hot: new Array<number>(BINS.length).fill(0), other: new Array<number>(BINS.length).fill(0) };
  for (let i = 0; i < site.pageCount(); i++) {
    const interval = state.revisits.get(site.origin + site.pagePath(i))?.interval;
    if (interval === undefined) continue;
    const bin = BINS.findIndex(([, upTo]) => interval <= upTo);
    counts[hot.has(i) ? 'hot' : 'other'][bin]++;
  }
  return markdownTable(
    ['revisit interval', ...BINS.map(([name]) => name)],
    [
      [`pages changed every round (${hot.size})`, ...counts.hot],
      [`other pages (${site.pageCount() - hot.size})`, ...counts.other],
    ],
  );
}

runBench('revisits', async () => {
  const started = Date.now();
  const rows: (string | number)[][] = [];
  let histogramTable = '';
  for (const validators of [true, false]) {
    const { row, site, crawl } = await cycle(validators);
    rows.push(row);
    try {
      if (validators) histogramTable = await histogram(site, crawl);
    } finally {
      await site.close();
      await fs.rm(crawl.root, { recursive: true, force: true });
    }
  }
  const table = markdownTable(
    ['server', 'first crawl (to done)', 'pages revisited', '304', 'changed', 'new pages crawled', 'requests', 'new images found', 'bytes of the cycle', 'vs the first crawl', 'verdict'],
    rows,
  );
  const header = machineHeader([
    `site: ${PAGES.toLocaleString('en')} pages (a tree, fan-out 3), ${IMAGES.toLocaleString('en')} images of ~15 KB; each page has a line that changes on every request (a timestamp)`,
    `refresh ${JSON.stringify(REFRESH)}, 1,000 pages per run, default concurrency; the cycle: ${hotPages().length} pages get a new image, ${Math.round(PAGES / 200)} new pages with one image each, then the clock moves 7 d and runs repeat until one is idle`,
    `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min) at the end; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
  ]);
  publish(
    'revisits',
    `## Revisits: one cycle on a changed site\n\n${header}\n\n${table}\n\n### Revisit intervals after ${ROUNDS} rounds of 12 h (the same 1% of pages changed every round), site with validators\n\n${histogramTable}\n`,
  );
});
