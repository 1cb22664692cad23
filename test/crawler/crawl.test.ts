import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readManifest } from '../../src/collection/manifest';
import { runCrawl } from '../../src/crawler/run';
import { StateStore } from '../../src/nas/state-store';
import { createLogger } from '../../src/log';
import { crawlOnce, hoursLater, savedImages, sorted, tempNasFolders, testConfig } from './helpers';
import { startTestSite, type TestSite } from './site';

describe('crawl of the hostile test site', () => {
  let site: TestSite;
  const nasFolders = tempNasFolders();
  const nas = () => nasFolders.make();
  before(async () => {
    site = await startTestSite();
  });
  after(async () => {
    await site.close();
    await nasFolders.removeAll();
  });

  test('one run saves exactly the expected images and names every failure', async () => {
    const root = await nas();
    site.requests.length = 0;
    const logs: string[] = [];
    const result = await crawlOnce(testConfig(site.url, root, { debug: true, maxAttempts: 2 }), logs);
    // /slow.html timed out: a transient failure, so it waits for a later run and the crawl is not done.
    assert.equal(result.done, false);
    assert.equal(result.retryingCount, 1);
    assert.equal(result.frontierSize, 0);
    assert.equal(result.skipped, null);
    assert.deepEqual(sorted(await savedImages(root)), sorted(site.expectedImages));
    assert.equal(result.totalImageDownloaded, site.expectedImages.size);
    assert.equal(result.imagesDownloadedThisRun, site.expectedImages.size);
    const errors = result.errorStack.join('\n');
    assert.match(errors, /missing\.html: HTTP 404/);
    assert.match(errors, /redirect-loop\/a: redirect loop/);
    assert.match(errors, /huge\.html: larger than the cap/);
    assert.match(errors, /slow\.html: UND_ERR_HEADERS_TIMEOUT.*\(attempt 1 of 2, retried later\)/);
    assert.match(errors, /fake\.png: not an image/);
    assert.match(errors, /old\.bmp: a BMP image, not saved: the installed sharp cannot decode BMP/);
    assert.match(errors, /into-private: redirect to \S+\/private\/secret\.html refused: disallowed by robots\.txt/);
    assert.equal(result.failedCount, 4);
    assert.doesNotMatch(errors, /flaky/, 'the 500 succeeds on retry');
    // robots.txt is read once, /private/ is never fetched (not even by a redirect), the other host and the non-HTML
    // links are not crawled.
    assert.equal(site.requests.filter((r) => r.endsWith(' /robots.txt')).length, 1);
    assert.ok(!site.requests.some((r) => r.includes('/private/')));
    assert.ok(!site.requests.some((r) => r.startsWith('localhost')));
    assert.equal(site.requests.filter((r) => r.endsWith(' /img/small.png')).length, 1, 'a small image is fetched once, then skipped');
    // One line per run, always; one per page with debug.
    const lines = logs.map((l) => JSON.parse(l) as { msg: string; requestId: string });
    const finished = lines.filter((l) => l.msg === 'crawl run finished') as unknown as Array<Record<string, unknown>>;
    assert.equal(finished.length, 1);
    // The field names the image function's "image request" line uses for the same meaning.
    assert.deepEqual([finished[0].requestId, finished[0].action, finished[0].status, typeof finished[0].durationMs], ['test', 'crawl', 200, 'number']);
    // The redirect target is counted as crawled along with the page that redirected to it.
    assert.equal(lines.filter((l) => l.msg === 'page crawled').length, result.pagesCrawledThisRun - 1);
    // Pages that are not crawled get their line too: the non-HTML links, with the reason.
    const excluded = lines.filter((l) => l.msg === 'page excluded') as unknown as { url: string; reason: string }[];
    assert.ok(excluded.some((l) => /not HTML/.test(l.reason)), JSON.stringify(excluded));
    assert.ok(lines.every((l) => l.requestId === 'test'));
    // The manifest: one entry per file; the image found under two URLs has both.
    const manifest = await readManifest(root);
    assert.equal(manifest.size, site.expectedImages.size);
    const shared = [...manifest.values()].find((e) => e.sourceUrls.length === 2);
    assert.ok(shared);
    assert.deepEqual(sorted(shared.sourceUrls), [`${site.origin}/alias/same-as-shared.png`, `${site.origin}/img/shared.png`]);
    assert.equal(shared.width, 72);
    assert.equal(shared.firstPage, site.url);
    // <a href="/photos/full-size">, served as application/octet-stream: an image by its bytes, saved and listed
    // with the page that linked it.
    const linked = [...manifest.values()].find((e) => e.sourceUrls.includes(`${site.origin}/photos/full-size`));
    assert.equal(linked?.firstPage, site.url);
    // A run before the retry time does nothing; the one after it tries once more and gives up (maxAttempts 2).
    const early = await crawlOnce(testConfig(site.url, root, { maxAttempts: 2 }));
    assert.equal(early.pagesCrawledThisRun, 0);
    assert.equal(early.retryingCount, 1);
    const late = await crawlOnce(testConfig(site.url, root, { maxAttempts: 2 }), [], 'late', { now: hoursLater(1) });
    assert.equal(late.done, true);
    assert.equal(late.failedCount, 5);
    assert.match(late.errorStack.join('\n'), /slow\.html: UND_ERR_HEADERS_TIMEOUT.*; gave up after 2 attempts/);
    // A finished crawl does nothing more, and returns at once.
    const again = await crawlOnce(testConfig(site.url, root));
    assert.equal(again.done, true);
    assert.equal(again.pagesCrawledThisRun, 0);
    assert.equal(again.totalImageDownloaded, site.expectedImages.size);
    assert.equal(again.totalCrawlCount, result.totalCrawlCount);
  });

  test('a modern page: <picture> sources, lazy images, og:image and image_src are saved; placeholders, SVG and nofollow are not fetched', async () => {
    const root = await nas();
    site.requests.length = 0;
    const result = await crawlOnce(testConfig(site.url, root));
    // Everything but /slow.html, which timed out and waits for a retry.
    assert.equal(result.frontierSize, 0);
    assert.equal(result.retryingCount, 1);
    const saved = new Set([...(await readManifest(root)).values()].flatMap((e) => e.sourceUrls.map((u) => new URL(u).pathname)));
    for (const path of ['/img/picture-webp-large.png', '/img/picture-fallback.png', '/img/lazy-data-src.png', '/img/lazy-data-srcset-large.png', '/img/lazy-data-lazy-src.png', '/img/lazy-data-original.png', '/img/og.png', '/img/image-src.png', '/img/on-nofollow-page.png']) {
      assert.ok(saved.has(path), `${path} not saved`);
    }
    const fetched = (path: string) => site.requests.some((r) => r.endsWith(` ${path}`));
    for (const path of ['/img/vector.svg', '/img/spacer.gif', '/img/picture-webp-small.png', '/img/lazy-data-srcset-small.png', '/behind-rel-nofollow.html', '/behind-meta-nofollow.html']) {
      assert.ok(!fetched(path), `${path} was fetched`);
    }
    assert.ok(fetched('/nofollow.html'), 'a nofollow page is itself visited; only its links are not followed');
  });

  test('with respectRobots off, nofollow links are followed', async () => {
    const root = await nas();
    site.requests.length = 0;
    const result = await crawlOnce(testConfig(site.url, root, { respectRobots: false }));
    assert.equal(result.frontierSize, 0);
    const saved = new Set([...(await readManifest(root)).values()].flatMap((e) => e.sourceUrls.map((u) => new URL(u).pathname)));
    assert.ok(saved.has('/img/behind-rel-nofollow.png'));
    assert.ok(saved.has('/img/behind-meta-nofollow.png'));
  });

  test('many short runs end with exactly the expected images, visiting each page once', async () => {
    const root = await nas();
    site.requests.length = 0;
    let runs = 0;
    let last;
    do {
      last = await crawlOnce(testConfig(site.url, root, { numberOfPages: 2, maxAttempts: 2 }), [], `run ${runs}`, { now: hoursLater(runs) });
      assert.ok(last.pagesCrawledThisRun <= 3, 'a redirected page counts its target too');
      runs++;
    } while (!last.done && runs < 50);
    assert.equal(last.done, true);
    assert.ok(runs > 5);
    assert.deepEqual(sorted(await savedImages(root)), sorted(site.expectedImages));
    assert.equal(last.totalImageDownloaded, site.expectedImages.size);
    for (let i = 0; i < site.pageCount; i++) {
      assert.equal(site.requests.filter((r) => r.endsWith(` /page/${i}.html`)).length, 1, `page ${i}`);
    }
    const files = await fs.readdir(path.join(root, 'crawl-state'));
    // One journal segment per writing run until 16 of them are folded into a snapshot (two generations kept).
    const segments = files.filter((f) => f.startsWith('journal.'));
    assert.ok(segments.length <= 32 && files.length - segments.length <= 6, `state files stay few: ${files}`);
  });

  test('a page that is loading is not queued again when another page links to it: each page is fetched once', async () => {
    const linked = await startTestSite({ pages: 40, imagesPerPage: 0, features: false, siblingLinks: true, latencyMs: 20 });
    try {
      const result = await crawlOnce(testConfig(linked.url, await nas(), { numberOfPages: 100, concurrency: 4 }));
      assert.equal(result.done, true);
      const pages = linked.requests.filter((r) => r.includes('/page/'));
      assert.equal(new Set(pages).size, pages.length, `pages fetched twice: ${pages.filter((p, i) => pages.indexOf(p) !== i).join(', ')}`);
      assert.equal(result.pagesCrawledThisRun, result.totalCrawlCount);
    } finally {
      await linked.close();
    }
  });

  test('two concurrent invocations: one crawls, the other skips with "locked"; nothing is duplicated', async () => {
    const root = await nas();
    const config = testConfig(site.url, root, { numberOfPages: 100 });
    const [a, b] = await Promise.all([crawlOnce(config, [], 'first'), crawlOnce(config, [], 'second')]);
    const skipped = [a, b].filter((r) => r.skipped === 'locked');
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].pagesCrawledThisRun, 0);
    const ran = a.skipped ? b : a;
    assert.equal(ran.frontierSize, 0);
    assert.equal(ran.retryingCount, 1, '/slow.html waits for a retry');
    assert.deepEqual(sorted(await savedImages(root)), sorted(site.expectedImages));
    assert.equal((await readManifest(root)).size, site.expectedImages.size);
  });

  test('a run stops before its deadline: a page still loading is cut off and left in the frontier', async () => {
    const root = await nas();
    const config = testConfig(`${site.origin}/slow.html`, root, { requestTimeoutMs: 10_000 });
    const logger = createLogger({}, () => undefined);
    const deadline = Date.now() + 2500;
    const result = await runCrawl(config, { requestId: 'deadline', deadline, logger });
    assert.ok(Date.now() < deadline, 'returned before the deadline');
    assert.equal(result.pagesCrawledThisRun, 0);
    assert.equal(result.failedCount, 0);
    assert.equal(result.frontierSize, 1);
    assert.equal(result.done, false);
    const late = await runCrawl(config, { requestId: 'late', deadline: Date.now() - 1, logger });
    assert.equal(late.pagesCrawledThisRun, 0);
    assert.equal(late.frontierSize, 1, 'the page is still waiting for a run with time left');
  });

  test('a long journal is compacted into a snapshot, losing nothing', async () => {
    const root = await nas();
    const store = new StateStore(path.join(root, 'crawl-state'), root, { number: 0, lost: false }); // before the first lease
    await store.load();
    const visited = Array.from({ length: 20_000 }, (_, i) => `V\t${site.origin}/archive/${i}.html`);
    await store.append(visited); // about 0.9 MB: together with the run's own lines, past the 1 MB threshold
    await store.append(Array.from({ length: 5_000 }, (_, i) => `V\t${site.origin}/more/${i}.html`));
    await store.close();
    const result = await crawlOnce(testConfig(site.url, root, { numberOfPages: 1 }));
    assert.equal(result.totalCrawlCount, 25_001);
    const files = await fs.readdir(path.join(root, 'crawl-state'));
    assert.ok(files.includes('snapshot.1'), `compacted: ${files}`);
    const journal = await fs.stat(path.join(root, 'crawl-state', files.find((f) => f.startsWith('journal.1.'))!));
    assert.ok(journal.size < 10_000, 'the new journal holds only this run');
    const next = await crawlOnce(testConfig(site.url, root, { numberOfPages: 1 }));
    assert.equal(next.totalCrawlCount, 25_002);
  });

  test('a rootDir whose parent is missing (NAS not mounted) is a clear error, not a crawl into local disk', async () => {
    const root = path.join(await nas(), 'not-mounted', 'crawl');
    const result = await crawlOnce(testConfig(site.url, root));
    assert.match(result.error ?? '', /parent of rootDir .* does not exist \(is the NAS mounted\?\)/);
    await assert.rejects(fs.stat(path.dirname(root)));
  });

  test('reset starts the crawl over and keeps the saved images', async () => {
    const root = await nas();
    await crawlOnce(testConfig(site.url, root, { numberOfPages: 3 }));
    const before = await savedImages(root);
    const reset = await crawlOnce(testConfig(site.url, root, { numberOfPages: 1, reset: true }));
    assert.equal(reset.totalCrawlCount, 1);
    assert.ok(before.size > 0);
    for (const hash of before) assert.ok((await savedImages(root)).has(hash));
  });
});

describe('robots.txt answering 5xx', () => {
  test("the host's pages wait in the frontier for a later run, and are crawled once robots.txt answers", async () => {
    const site = await startTestSite({ robotsFailures: 2 });
    const nasFolders = tempNasFolders();
    try {
      const root = await nasFolders.make();
      const first = await crawlOnce(testConfig(site.url, root, { maxAttempts: 2 }));
      assert.equal(first.pagesCrawledThisRun, 0);
      assert.equal(first.failedCount, 0);
      assert.equal(first.retryingCount, 1);
      assert.equal(first.done, false);
      assert.ok(!site.requests.some((r) => r.endsWith(' /')), 'the seed page was not fetched');
      const second = await crawlOnce(testConfig(site.url, root, { maxAttempts: 2 }), [], 'second', { now: hoursLater(1) });
      assert.equal(second.retryingCount, 1, 'slow.html');
      assert.equal(second.frontierSize, 0);
      assert.deepEqual(sorted(await savedImages(root)), sorted(site.expectedImages));
    } finally {
      await site.close();
      await nasFolders.removeAll();
    }
  });
});

describe('visiting order on a known graph', () => {
  // Home -> 0; page i -> 2i+1, 2i+2 (and back home): a binary tree of 7 pages.
  let site: TestSite;
  const nasFolders = tempNasFolders();
  before(async () => {
    site = await startTestSite({ pages: 7, imagesPerPage: 0, features: false });
  });
  after(async () => {
    await site.close();
    await nasFolders.removeAll();
  });
  const order = async (extra: Record<string, unknown>) => {
    const root = await nasFolders.make();
    site.requests.length = 0;
    const result = await crawlOnce(testConfig(site.url, root, { concurrency: 1, ...extra }));
    assert.equal(result.done, true);
    return site.requests.filter((r) => r.includes('/page/')).map((r) => Number(/(\d+)\.html/.exec(r)![1]));
  };

  test('a redirect into a host whose robots.txt is unavailable waits for a later run instead of failing', async () => {
    const other = await startTestSite({ pages: 1, imagesPerPage: 1, robotsFailures: 2 });
    const site = await startTestSite({ features: false, pages: 1, imagesPerPage: 0, homeExtra: '<a href="/redirect/elsewhere">elsewhere</a>', redirectElsewhere: `${other.origin}/page/0.html` });
    const nasFolders = tempNasFolders();
    try {
      const root = await nasFolders.make();
      const config = testConfig(site.url, root, { maxDepth: 1 });
      const first = await crawlOnce(config);
      assert.equal(first.failedCount, 0, first.errorStack.join('\n'));
      assert.equal(first.retryingCount, 1);
      assert.equal(first.done, false);
      assert.ok(!other.requests.some((r) => r.endsWith(' /page/0.html')), 'the target was not fetched');
      const second = await crawlOnce(config, [], 'second', { now: hoursLater(1) });
      assert.equal(second.done, true);
      assert.equal(second.failedCount, 0);
      assert.equal(second.totalImageDownloaded, 1, 'the image on the redirect target');
    } finally {
      await site.close();
      await other.close();
      await nasFolders.removeAll();
    }
  });

  test('dfs visits depth first, the first link of a page first (last found, first visited)', async () => {
    assert.deepEqual(await order({}), [0, 1, 3, 4, 2, 5, 6]);
  });

  test('the order holds across many one-page runs', async () => {
    const root = await nasFolders.make();
    site.requests.length = 0;
    for (let i = 0; i < 20 && !(await crawlOnce(testConfig(site.url, root, { numberOfPages: 1, concurrency: 1 }))).done; i++);
    const visited = site.requests.filter((r) => r.includes('/page/')).map((r) => Number(/(\d+)\.html/.exec(r)![1]));
    assert.deepEqual(visited, [0, 1, 3, 4, 2, 5, 6]);
  });

  test('bfs visits level by level', async () => {
    assert.deepEqual(await order({ order: 'bfs' }), [0, 1, 2, 3, 4, 5, 6]);
  });

  test('maxDepth stops the descent (home is depth 0)', async () => {
    assert.deepEqual(await order({ maxDepth: 2 }), [0, 1, 2]);
  });
});
