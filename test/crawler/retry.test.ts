import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { parseRetryAfter } from '../../src/crawler/host-pacer';
import { crawlOnce, hoursLater, savedImages, sorted, tempNasFolders, testConfig } from './helpers';
import { startTestSite } from './site';

const nasFolders = tempNasFolders();
after(() => nasFolders.removeAll());
const secondsLater = (s: number) => () => Date.now() + s * 1000;

describe('transient failures wait for a later run (issue 11 §1)', () => {
  test('a seed that answers 503 waits, honours Retry-After, and is crawled once the site is healthy', async () => {
    const site = await startTestSite({ features: false, pages: 3, imagesPerPage: 1, homeFailures: 1, retryAfterSeconds: 120 });
    try {
      const root = await nasFolders.make();
      const config = testConfig(site.url, root);
      const first = await crawlOnce(config);
      assert.equal(first.failedCount, 0, first.errorStack.join('\n'));
      assert.equal(first.retryingCount, 1);
      assert.equal(first.done, false, 'a page waiting for a retry is not the end of the crawl');
      // The host pauses for its Retry-After, past this run's end: asked once, not again within the run.
      assert.match(first.errorStack.join('\n'), /HTTP 503, then not requested: its host is not free again for 120 s.*\(attempt 1 of 5, retried later\)/);
      const homeRequests = () => site.requests.filter((r) => r.endsWith(' /')).length;
      assert.equal(homeRequests(), 1);
      // Not yet due: the backoff is a minute, and the server asked for two.
      for (const now of [undefined, secondsLater(100)]) {
        const early = await crawlOnce(config, [], 'early', now ? { now } : {});
        assert.equal(early.retryingCount, 1);
        assert.equal(early.done, false);
      }
      assert.equal(homeRequests(), 1, 'Retry-After: 120 is honoured');
      const later = await crawlOnce(config, [], 'later', { now: secondsLater(130) });
      assert.equal(later.done, true);
      assert.equal(later.retryingCount, 0);
      assert.equal(later.failedCount, 0);
      assert.equal(later.totalCrawlCount, 4);
      assert.deepEqual(sorted(await savedImages(root)), sorted(site.expectedImages));
    } finally {
      await site.close();
    }
  });

  test('an image that answers 503 waits for a later run, then is saved', async () => {
    const site = await startTestSite({ features: false, pages: 3, imagesPerPage: 1, imageFailures: 2 });
    try {
      const root = await nasFolders.make();
      const config = testConfig(site.url, root);
      const first = await crawlOnce(config);
      assert.equal(first.frontierSize, 0);
      assert.equal(first.retryingCount, 1);
      assert.equal(first.done, false);
      assert.equal(first.totalImageDownloaded, site.expectedImages.size - 1);
      const later = await crawlOnce(config, [], 'later', { now: hoursLater(1) });
      assert.equal(later.done, true);
      assert.equal(later.pagesCrawledThisRun, 0, 'only the image is fetched again');
      assert.deepEqual(sorted(await savedImages(root)), sorted(site.expectedImages));
      assert.equal(site.requests.filter((r) => r.endsWith(' /page/0.html')).length, 1);
    } finally {
      await site.close();
    }
  });

  test('after maxAttempts runs a page that keeps failing is failed with its last reason', async () => {
    const site = await startTestSite({ features: false, pages: 3, imagesPerPage: 0, homeFailures: 1000, retryAfterSeconds: 1 });
    try {
      const root = await nasFolders.make();
      const config = testConfig(site.url, root, { maxAttempts: 3 });
      const results = [];
      for (let run = 0; run < 3; run++) results.push(await crawlOnce(config, [], `run ${run}`, { now: hoursLater(run * 24) }));
      assert.deepEqual(results.map((r) => r.retryingCount), [1, 1, 0]);
      const last = results[2];
      assert.equal(last.done, true);
      assert.equal(last.failedCount, 1);
      assert.match(last.errorStack.join('\n'), /HTTP 503 \(after 2 attempts\); gave up after 3 attempts/);
      assert.equal(site.requests.filter((r) => r.endsWith(' /')).length, 6);
    } finally {
      await site.close();
    }
  });

  test('robots.txt that cannot be reached means "try later", not "allow all" (RFC 9309)', async () => {
    const site = await startTestSite({ features: false, pages: 1, imagesPerPage: 0, robotsUnreachable: true });
    try {
      const first = await crawlOnce(testConfig(site.url, await nasFolders.make()));
      assert.equal(first.pagesCrawledThisRun, 0);
      assert.equal(first.retryingCount, 1);
      assert.equal(first.failedCount, 0);
      assert.ok(!site.requests.some((r) => r.endsWith(' /')), 'the seed page was not fetched');
    } finally {
      await site.close();
    }
  });

  test('Retry-After is read as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:05:00 GMT', now), 300_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
