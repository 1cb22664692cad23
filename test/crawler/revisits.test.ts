import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { readManifest } from '../../src/collection/manifest';
import type { CrawlResult } from '../../src/crawler/run';
import { CrawlState } from '../../src/crawler/state';
import { StateStore } from '../../src/nas/state-store';
import { startChangingSite, type ChangingSite, type ChangingSiteOptions } from './changing-site';
import { crawlOnce, savedImages, tempNasFolders, testConfig, testPayload } from './helpers';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 2);
const nasFolders = tempNasFolders();
after(() => nasFolders.removeAll());

/** A clock the test moves; the crawl's due times follow it, the site answers in real time. */
function fakeClock(start = Date.UTC(2026, 5, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function loadState(root: string): Promise<CrawlState> {
  const store = new StateStore(path.join(root, 'crawl-state'), root);
  return CrawlState.fromStore(await store.load());
}

/** Runs until nothing waits: the first full crawl. */
async function crawlToDone(url: string, root: string, clock: { now: () => number }, extra: Record<string, unknown> = {}): Promise<CrawlResult> {
  for (let run = 0; run < 20; run++) {
    const result = await crawlOnce(testConfig(url, root, extra), [], 'test', { now: clock.now });
    assert.equal(result.error, undefined);
    if (result.done) return result;
  }
  throw new Error('the crawl did not finish in 20 runs');
}

/** A changing site, a NAS folder and a clock for one test; the site is closed whatever happens. */
async function onChangingSite(options: ChangingSiteOptions, body: (t: { site: ChangingSite; root: string; clock: ReturnType<typeof fakeClock> }) => Promise<void>, start?: number): Promise<void> {
  const site = await startChangingSite(options);
  try {
    await body({ site, root: await nasFolders.make(), clock: fakeClock(start) });
  } finally {
    await site.close();
  }
}

const requestsDuring = async (site: ChangingSite, work: () => Promise<unknown>) => {
  const from = site.log.length;
  await work();
  return site.log.slice(from);
};

describe('revisits', () => {
  const refresh = { minInterval: '1h', maxInterval: '16h', share: 0.2 };

  test('a done crawl is idle until pages are due; then it revisits them oldest first, and intervals adapt within bounds', () =>
    onChangingSite({ pages: 13, images: 13 }, async ({ site, root, clock }) => {
      const first = await crawlToDone(site.url, root, clock, { refresh });
      assert.equal(first.totalCrawlCount, 13);
      // The first interval lies halfway (on a log scale) between the bounds: 4 h.
      const state = await loadState(root);
      for (let i = 0; i < 13; i++) assert.equal(state.revisits.get(site.origin + site.pagePath(i))?.interval, 4 * 3600, `page ${i}`);
      assert.equal(first.nextRevisitAt, new Date(clock.now() + 4 * HOUR).toISOString());

      // Within minInterval of the last sitemap read, and before any page is due.
      clock.advance(HOUR / 2);
      let result: CrawlResult | undefined;
      const none = await requestsDuring(site, async () => (result = await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now })));
      assert.deepEqual(none, [], 'an idle run makes no request, not even robots.txt');
      assert.equal(result!.idle, true);
      assert.equal(result!.done, true);
      assert.equal(result!.pagesRevisitedThisRun, 0);

      // Page 5 gets a new image; every other page stays as it is (bar its timestamp line).
      const added = site.addImage(5);
      clock.advance(3.5 * HOUR + 1000);
      const revisits = await requestsDuring(site, async () => (result = await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now })));
      assert.equal(result!.idle, false);
      assert.equal(result!.pagesRevisitedThisRun, 13);
      assert.equal(result!.notModifiedThisRun, 12);
      assert.equal(result!.changedThisRun, 1);
      assert.equal(result!.imagesDownloadedThisRun, 1);
      assert.equal(result!.pagesCrawledThisRun, 0);
      const pageRequests = revisits.filter((r) => r.path === '/' || r.path.startsWith('/p/'));
      assert.ok(pageRequests.every((r) => r.conditional), 'every revisit is a conditional GET');
      assert.deepEqual(revisits.filter((r) => r.path.startsWith('/img/')).map((r) => r.path), [added], 'only the new image is fetched');
      // Oldest due first: the order of the first visits (all had the same interval).
      const firstOrder = site.log.filter((r, i) => i < site.log.length - revisits.length && r.status === 200 && (r.path === '/' || r.path.startsWith('/p/'))).map((r) => r.path);
      assert.deepEqual(pageRequests.map((r) => r.path).sort(), [...new Set(firstOrder)].sort());

      const after1 = await loadState(root);
      assert.equal(after1.revisits.get(site.origin + site.pagePath(5))?.interval, 2 * 3600, 'a changed page comes back twice as soon');
      assert.equal(after1.revisits.get(site.origin + site.pagePath(4))?.interval, 6 * 3600, 'an unchanged page half again as late');

      // Many cycles: the unchanged pages reach maxInterval and stay there; page 5, changed every time, reaches minInterval.
      for (let cycle = 0; cycle < 12; cycle++) {
        site.addImage(5);
        clock.advance(16 * HOUR + 1000);
        result = await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now });
        assert.equal(result.error, undefined);
      }
      const settled = await loadState(root);
      assert.equal(settled.revisits.get(site.origin + site.pagePath(5))?.interval, 3600);
      for (const i of [0, 1, 4, 12]) assert.equal(settled.revisits.get(site.origin + site.pagePath(i))?.interval, 16 * 3600, `page ${i}`);
      assert.equal(settled.totalImageDownloaded, 13 + 13);
    }));

  test('a 304 keeps the page\'s subtree: pages below it are still revisited, and a new image deep down is saved', () =>
    onChangingSite({ pages: 40, images: 20, fanOut: 2 }, async ({ site, root, clock }) => {
      await crawlToDone(site.url, root, clock, { refresh });
      const deep = 37; // a leaf, four levels under the seed
      const added = site.addImage(deep);
      clock.advance(5 * HOUR);
      const result = await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now });
      assert.equal(result.pagesRevisitedThisRun, 40);
      assert.equal(result.notModifiedThisRun, 39, 'every ancestor of the changed page answered 304');
      assert.equal(result.imagesDownloadedThisRun, 1);
      const state = await loadState(root);
      assert.equal(state.history.size, 40);
      for (let i = 0; i < 40; i++) assert.ok((state.revisits.get(site.origin + site.pagePath(i))?.due ?? 0) > 0, `page ${i} is still scheduled`);
      const manifest = [...(await readManifest(root)).values()];
      assert.ok(manifest.some((e) => e.sourceUrls.includes(site.origin + added) && e.firstPage === site.origin + site.pagePath(deep)));
    }));

  test('a new page found on a revisit is crawled; an image no page shows any more gets goneSince and stays on the NAS', () =>
    onChangingSite({ pages: 10, images: 10 }, async ({ site, root, clock }) => {
      await crawlToDone(site.url, root, clock, { refresh });
      const imagesBefore = await savedImages(root);
      const [vanishing] = site.imagesOn(3);
      site.removeImage(3, vanishing);
      const fresh = site.addPage(2, 2);
      clock.advance(5 * HOUR);
      const result = await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now });
      assert.equal(result.error, undefined);
      assert.equal(result.pagesCrawledThisRun, 1, 'the new page');
      assert.equal(result.imagesDownloadedThisRun, 2, "the new page's images");
      assert.equal(result.changedThisRun, 2, 'page 2 (a new link) and page 3 (an image fewer)');
      assert.ok((await loadState(root)).history.has(site.origin + site.pagePath(fresh)));
      const manifest = await readManifest(root);
      const entry = [...manifest.values()].find((e) => e.sourceUrls.includes(site.origin + vanishing))!;
      assert.equal(entry.goneSince, new Date(clock.now()).toISOString().replace(/\.\d+Z$/, '.000Z'));
      assert.ok([...manifest.values()].filter((e) => e.goneSince).length === 1, 'only that one');
      const imagesAfter = await savedImages(root);
      for (const hash of imagesBefore) assert.ok(imagesAfter.has(hash), `${hash} is kept`);
      // Shown again (page 3 changed, so it comes back in 2 h rather than 6 h): the mark goes.
      site.addImage(3, vanishing);
      clock.advance(3 * HOUR);
      await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now });
      const back = [...(await readManifest(root)).values()].find((e) => e.sourceUrls.includes(site.origin + vanishing))!;
      assert.equal(back.goneSince, undefined);
    }));

  test('an image shown on two pages and removed from one is not gone', () =>
    onChangingSite({ pages: 4, images: 4 }, async ({ site, root, clock }) => {
      // Image 1 is on page 1; page 2 shows it too.
      const shared = site.addImage(2, site.imagesOn(1)[0]);
      await crawlToDone(site.url, root, clock, { refresh });
      site.removeImage(1, shared);
      clock.advance(5 * HOUR);
      await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now });
      const entry = () => readManifest(root).then((m) => [...m.values()].find((e) => e.sourceUrls.includes(site.origin + shared))!);
      assert.equal((await entry()).goneSince, undefined);
      // Then from the other page too: now it is gone.
      site.removeImage(2, shared);
      clock.advance(3 * HOUR);
      await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now });
      assert.equal((await entry()).goneSince, undefined, 'page 2 was not due yet (6 h)');
      clock.advance(4 * HOUR);
      await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now });
      assert.equal((await entry()).goneSince, new Date(clock.now()).toISOString());
    }));

  test('without validators a revisit compares links and images: an unchanged page is not "changed" by its timestamp line', () =>
    onChangingSite({ pages: 13, images: 13, validators: false }, async ({ site, root, clock }) => {
      await crawlToDone(site.url, root, clock, { refresh });
      clock.advance(5 * HOUR);
      const result = await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now });
      assert.equal(result.pagesRevisitedThisRun, 13);
      assert.equal(result.notModifiedThisRun, 0);
      assert.equal(result.changedThisRun, 0);
      assert.equal((await loadState(root)).revisits.get(site.url)?.interval, 6 * 3600);
    }));

  test('while new pages wait, revisits take at most `share` of the run\'s pages', () =>
    onChangingSite({ pages: 30, images: 0, fanOut: 2 }, async ({ site, root, clock }) => {
      // 10 pages a run; a 1 s interval makes every visited page due at once.
      const fast = { refresh: { minInterval: '1s', maxInterval: '1s', share: 0.2 }, numberOfPages: 10 };
      const runs: CrawlResult[] = [];
      for (let run = 0; run < 3; run++) {
        runs.push(await crawlOnce(testConfig(site.url, root, fast), [], 'test', { now: clock.now }));
        clock.advance(2000);
      }
      assert.deepEqual(runs.map((r) => r.pagesCrawledThisRun + r.pagesRevisitedThisRun), [10, 10, 10]);
      assert.deepEqual(runs.map((r) => r.pagesRevisitedThisRun), [0, 2, 2], '20% of 10 pages');
      assert.equal(runs[2].totalCrawlCount, 26);
    }));

  test('sitemaps are read again once a day (maxInterval / 7); a <lastmod> newer than the last visit makes a known page due at once', () =>
    onChangingSite({ pages: 7, images: 0, sitemap: true }, async ({ site, root, clock }) => {
      for (let i = 0; i < 7; i++) site.setLastmod(i, '2026-01-01');
      const extra = { refresh: { minInterval: '1h', maxInterval: '7d' } };
      const run = () => requestsDuring(site, () => crawlOnce(testConfig(site.url, root, extra), [], 'test', { now: clock.now })).then((r) => r.map((x) => x.path).sort());
      await crawlToDone(site.url, root, clock, extra);
      // 13 h: every page is due (12.96 h), the sitemaps are not (24 h).
      clock.advance(13 * HOUR);
      assert.deepEqual((await run()).filter((p) => !p.startsWith('/p/')), ['/', '/robots.txt']);
      // The sitemap says page 6 changed after that revisit; the next read, a day after the first, makes it due now,
      // while the other pages wait for their next time (13 h + 19.4 h).
      site.setLastmod(6, new Date(T0 + 20 * HOUR).toISOString());
      clock.advance(11 * HOUR + 60_000);
      assert.deepEqual(await run(), ['/p/6.html', '/robots.txt', '/sitemap.xml']);
    }, T0));

  test('after the seed moves to another host, the old host\'s pages are not revisited', () =>
    onChangingSite({ pages: 13, images: 0 }, async ({ site, root, clock }) => {
      await crawlToDone(site.url, root, clock, { refresh });
      clock.advance(5 * HOUR);
      // Another host name for the same server: the old pages are outside the new seed's "host" scope. Its own pages
      // (new URLs, fetched without validators) may be crawled; a revisit would be a conditional GET.
      const moved = site.url.replace('127.0.0.1', 'localhost');
      const requests = await requestsDuring(site, () => crawlOnce(testConfig(moved, root, { refresh, allowPrivateNetworks: ['127.0.0.1', '::1'] }), [], 'test', { now: clock.now }));
      assert.deepEqual(requests.filter((r) => r.conditional), [], 'no revisit of the old host\'s pages');
      // Back to the old seed: its pages are revisited again.
      const back = await requestsDuring(site, () => crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now }));
      assert.equal(back.filter((r) => r.conditional).length, 13);
    }));

  test('refresh: false is today\'s crawl: no record is kept, and a done crawl stays idle however the site changes', () =>
    onChangingSite({ pages: 13, images: 13 }, async ({ site, root, clock }) => {
      const first = await crawlToDone(site.url, root, clock, { refresh: false });
      assert.equal(first.nextRevisitAt, null);
      site.addImage(0);
      site.addPage(0, 1);
      for (const days of [1, 30, 365]) {
        clock.advance(days * 24 * HOUR);
        let result: CrawlResult | undefined;
        const requests = await requestsDuring(site, async () => (result = await crawlOnce(testConfig(site.url, root, { refresh: false }), [], 'test', { now: clock.now })));
        assert.deepEqual(requests, []);
        assert.equal(result!.idle, true);
        assert.equal(result!.done, true);
        assert.equal(result!.pagesRevisitedThisRun, 0);
        assert.equal(result!.nextRevisitAt, null);
      }
      const journal = await journalText(root);
      assert.doesNotMatch(journal, /^[NEZ]\t/m, 'no revisit record, image validator or gone mark');
    }));

  test('a crawl done before revisits existed is revisited from its seed outwards once refresh is on', () =>
    onChangingSite({ pages: 13, images: 13 }, async ({ site, root, clock }) => {
      await crawlToDone(site.url, root, clock, { refresh: false });
      const added = site.addImage(12);
      const results: CrawlResult[] = [];
      for (let run = 0; run < 5; run++) {
        results.push(await crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now }));
        clock.advance(60_000);
      }
      assert.equal(results.reduce((n, r) => n + r.pagesRevisitedThisRun, 0), 13, 'each page once');
      assert.equal(results.reduce((n, r) => n + r.imagesDownloadedThisRun, 0), 1);
      assert.ok((await readManifest(root)).size === 14 && [...(await readManifest(root)).values()].some((e) => e.sourceUrls.includes(site.origin + added)));
      assert.equal(results.at(-1)!.idle, true);
    }));

  test('refresh.images: a known image URL with new content is asked for conditionally, and the new version saved beside the old', () =>
    onChangingSite({ pages: 4, images: 4 }, async ({ site, root, clock }) => {
      const extra = { refresh: { ...refresh, images: true } };
      await crawlToDone(site.url, root, clock, extra);
      const [changed] = site.imagesOn(2);
      site.changeImage(changed);
      clock.advance(5 * HOUR);
      let result: CrawlResult | undefined;
      const requests = await requestsDuring(site, async () => (result = await crawlOnce(testConfig(site.url, root, extra), [], 'test', { now: clock.now })));
      const images = requests.filter((r) => r.path.startsWith('/img/'));
      assert.equal(images.length, 4);
      assert.ok(images.every((r) => r.conditional));
      assert.deepEqual(images.filter((r) => r.status === 200).map((r) => r.path), [changed]);
      assert.equal(result!.imagesDownloadedThisRun, 1);
      assert.equal((await savedImages(root)).size, 5, 'the old version stays');
      // Without refresh.images a known image URL is never fetched again.
      site.changeImage(changed);
      clock.advance(10 * HOUR);
      const again = await requestsDuring(site, () => crawlOnce(testConfig(site.url, root, { refresh }), [], 'test', { now: clock.now }));
      assert.deepEqual(again.filter((r) => r.path.startsWith('/img/')), []);
    }));

  test('SIGKILL during a revisit cycle loses nothing: the next runs finish the cycle and every page stays scheduled', { timeout: 120_000 }, async () => {
    const site = await startChangingSite({ pages: 120, images: 60 });
    const root = await nasFolders.make();
    try {
      const payload = testPayload(site.url, root, { refresh: { minInterval: '1s', maxInterval: '2s' }, numberOfPages: 500 });
      assert.equal((await runChild(payload)).result?.done, true);
      const added = Array.from({ length: 10 }, (_, k) => site.addImage(10 * k + 3));
      await new Promise((r) => setTimeout(r, 2500));
      // Killed once the cycle is under way (some pages asked again), before it can finish.
      const from = site.log.length;
      const killed = await runChild(payload, () => site.log.length - from >= 40);
      assert.equal(killed.result, null, 'the child was killed');
      for (let run = 0; run < 4; run++) assert.equal((await runChild(payload)).result?.error, undefined);
      const manifest = [...(await readManifest(root)).values()];
      for (const src of added) assert.ok(manifest.some((e) => e.sourceUrls.includes(site.origin + src)), `${src} saved`);
      const state = await loadState(root);
      assert.equal(state.history.size, 120);
      for (let i = 0; i < 120; i++) assert.ok((state.revisits.get(site.origin + site.pagePath(i))?.due ?? 0) > 0, `page ${i}`);
      assert.equal(state.skippedLines, 0);
      assert.equal((await savedImages(root)).size, 70);
    } finally {
      await site.close();
    }
  });
});

async function journalText(root: string): Promise<string> {
  const dir = path.join(root, 'crawl-state');
  let text = '';
  for (const name of await fs.readdir(dir)) if (name.startsWith('journal.')) text += await fs.readFile(path.join(dir, name), 'utf8');
  return text;
}

/** A crawler process; killed (SIGKILL) as soon as `killWhen` holds, polled every 5 ms. */
function runChild(payload: Record<string, unknown>, killWhen?: () => boolean): Promise<{ result: CrawlResult | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'crawl-child.ts'), JSON.stringify(payload)], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, LOG_LEVEL: 'error' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const poll = killWhen && setInterval(() => killWhen() && child.kill('SIGKILL'), 5);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (poll) clearInterval(poll);
      if (signal === 'SIGKILL') return resolve({ result: null });
      if (code !== 0) return reject(new Error(`crawler child exited with ${code}`));
      resolve({ result: JSON.parse(out.trim().split('\n').pop()!) as CrawlResult });
    });
  });
}
