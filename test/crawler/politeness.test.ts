/**
 * Politeness, measured from the test server's request log: Crawl-delay and hostDelayMs space the requests to a
 * host, maxCrawlDelay caps a robots.txt that asks too much, and a 503/429 with Retry-After pauses the whole host.
 * Spacing is asserted as at least 80 % of the asked gap (arrival times jitter a little under load), and a run
 * without pacing shows that the assertion can fail.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { runCrawl } from '../../src/crawler/run';
import { createLogger } from '../../src/log';
import { crawlOnce, savedImages, sorted, tempNasFolders, testConfig } from './helpers';
import { startTestSite, type LoggedRequest, type OverrideAnswer, type SiteOptions, type TestSite } from './site';

/** The smallest gap between two consecutive arrivals, ms. */
function minGap(log: LoggedRequest[]): number {
  const times = log.map((r) => r.at).sort((a, b) => a - b);
  let min = Infinity;
  for (let i = 1; i < times.length; i++) min = Math.min(min, times[i] - times[i - 1]);
  return min;
}

const robots = (lines: string) => (path: string): OverrideAnswer | undefined => (path === '/robots.txt' ? { status: 200, body: `User-agent: *\n${lines}\n` } : undefined);

describe('politeness', () => {
  const nasFolders = tempNasFolders();
  const sites: TestSite[] = [];
  const site = async (options: SiteOptions) => {
    const s = await startTestSite({ pages: 4, imagesPerPage: 1, features: false, ...options });
    sites.push(s);
    return s;
  };
  after(async () => {
    for (const s of sites) await s.close();
    await nasFolders.removeAll();
  });

  test('without pacing, the default concurrency sends requests to the host back to back', async () => {
    const s = await site({ imagesPerPage: 3 });
    const result = await crawlOnce(testConfig(s.url, await nasFolders.make()));
    assert.equal(result.done, true);
    assert.ok(minGap(s.requestLog) < 100, `min gap ${minGap(s.requestLog)} ms`);
  });

  test("robots.txt's Crawl-delay spaces every request to the host, at the default concurrency", async () => {
    const s = await site({ imagesPerPage: 3, override: robots('Crawl-delay: 0.25') });
    const root = await nasFolders.make();
    const result = await crawlOnce(testConfig(s.url, root));
    assert.equal(result.done, true);
    assert.deepEqual(sorted(await savedImages(root)), sorted(s.expectedImages));
    assert.ok(s.requestLog.length >= 16, `${s.requestLog.length} requests`);
    assert.ok(minGap(s.requestLog) >= 200, `min gap ${minGap(s.requestLog)} ms`);
  });

  test('maxCrawlDelay caps a Crawl-delay that would stall the run; hostDelayMs spaces requests by itself', async () => {
    const capped = await site({ override: robots('Crawl-delay: 600') });
    const cappedResult = await crawlOnce(testConfig(capped.url, await nasFolders.make(), { maxCrawlDelay: '300ms' }));
    assert.equal(cappedResult.done, true);
    assert.equal(cappedResult.imagesDownloadedThisRun, 4);
    assert.ok(minGap(capped.requestLog) >= 240, `min gap ${minGap(capped.requestLog)} ms`);
    assert.ok(cappedResult.durationMs < 60_000, `took ${cappedResult.durationMs} ms`);

    const spaced = await site({});
    const spacedResult = await crawlOnce(testConfig(spaced.url, await nasFolders.make(), { hostDelayMs: 200 }));
    assert.equal(spacedResult.done, true);
    assert.ok(minGap(spaced.requestLog) >= 160, `min gap ${minGap(spaced.requestLog)} ms`);
  });

  test('a 503 or 429 with Retry-After (seconds or HTTP-date) pauses the whole host, then the page and image succeed', async () => {
    const hits = new Map<string, number>();
    const s = await site({
      override: (path) => {
        const n = (hits.get(path) ?? 0) + 1;
        hits.set(path, n);
        if (path === '/page/1.html' && n === 1) return { status: 503, headers: { 'retry-after': '1' } };
        if (path === '/img/p2-0.png' && n === 1) return { status: 429, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } };
        return undefined;
      },
    });
    const root = await nasFolders.make();
    const result = await crawlOnce(testConfig(s.url, root));
    assert.equal(result.done, true);
    assert.equal(result.failedCount, 0, result.errorStack.join('\n'));
    assert.deepEqual(sorted(await savedImages(root)), sorted(s.expectedImages));
    for (const path of ['/page/1.html', '/img/p2-0.png']) {
      const [refused, retried] = s.requestLog.filter((r) => r.path === path);
      assert.ok(retried, `${path} asked again`);
      assert.ok(retried.at - refused.at >= 900, `${path} asked again after ${retried.at - refused.at} ms`);
      // Requests already on their way when the refusal came may still arrive; after that, the host is left alone for
      // the pause (at least 900 ms for both: 1 s, and an HTTP-date 2 s ahead cut to whole seconds). When it ends, the
      // waiting requests of both paths may go in either order.
      const meanwhile = s.requestLog.filter((r) => r.at > refused.at + 100 && r.at < Math.min(retried.at, refused.at + 900));
      assert.deepEqual(meanwhile, [], `requests while ${path}'s host was paused`);
    }
  });

  test("a Retry-After past the run's end is not waited for: the page and the image stay for a later run, not failed", async () => {
    let healthy = false;
    // Page 2's children (5 and 6) are found only after the 503s that pause the host: they are never requested.
    const s = await site({
      pages: 7,
      override: (path) => (!healthy && (path === '/page/1.html' || path === '/img/p0-0.png') ? { status: 503, headers: { 'retry-after': '600' } } : undefined),
    });
    const root = await nasFolders.make();
    const config = testConfig(s.url, root);
    const logger = createLogger({ requestId: 'short' }, () => undefined);
    // A 24 s budget: pages are taken for 14 s, requests are cut at 19 s, far before the 600 s the host asks for.
    const first = await runCrawl(config, { requestId: 'short', deadline: Date.now() + 24_000, logger });
    assert.equal(first.failedCount, 0, first.errorStack.join('\n'));
    assert.equal(first.done, false);
    assert.ok(first.durationMs < 14_000, `the run did not wait for the host (${first.durationMs} ms)`);
    assert.equal(s.requestLog.filter((r) => r.path === '/img/p0-0.png').length, 1, 'asked once, then left alone');
    // Pages of the paused host that were never requested spend no attempt.
    const unsent = first.errorStack.filter((l) => l.includes('(not an attempt, retried later)')).map((l) => new URL(l.split(': ')[0]).pathname);
    assert.ok(unsent.length > 0, first.errorStack.join('\n'));
    for (const path of unsent) assert.equal(s.requestLog.filter((r) => r.path === path).length, 0, `${path} was requested`);
    healthy = true;
    // The page and the image wait for the 600 s the host asked for.
    const second = await crawlOnce(config, [], 'later', { now: () => Date.now() + 700_000 });
    assert.equal(second.done, true);
    assert.equal(second.failedCount, 0, second.errorStack.join('\n'));
    assert.deepEqual(sorted(await savedImages(root)), sorted(s.expectedImages));
  });
});
