import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { CrawlResult } from '../../src/crawler/run';
import { runCrawl } from '../../src/crawler/run';
import { createLogger } from '../../src/log';
import { savedImages, sorted, tempNasFolders, testConfig, testPayload } from './helpers';
import { startTestSite } from './site';

const nasFolders = tempNasFolders();
after(() => nasFolders.removeAll());
const CHILD = path.join(__dirname, 'crawl-child.ts');

/** One crawler process; resolves with its result, or null when it was killed. */
function crawlInChild(payload: Record<string, unknown>, started: (child: ChildProcess) => void): Promise<CrawlResult | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(payload)], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LOG_LEVEL: 'error' } });
  started(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') return resolve(null);
      if (code !== 0) return reject(new Error(`crawler child exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as CrawlResult);
    });
  });
}

describe('a page that cannot finish in one run (issue 11 §2)', () => {
  test('a 60-image gallery at 1 s per image under a 20 s function timeout is saved whole within 8 runs, no image fetched twice', { timeout: 240_000 }, async (t) => {
    const site = await startTestSite({ features: false, pages: 1, imagesPerPage: 0, gallery: { images: 60, delayMs: 1000 } });
    try {
      const root = await nasFolders.make();
      const config = testConfig(site.url, root, { concurrency: 2 });
      const logger = createLogger({}, () => undefined);
      let runs = 0;
      let last: CrawlResult | null = null;
      while (runs < 8 && !last?.done) {
        last = await runCrawl(config, { requestId: `run ${runs}`, deadline: Date.now() + 20_000, logger });
        runs++;
        t.diagnostic(`run ${runs}: ${last.imagesDownloadedThisRun} images, done=${last.done}`);
      }
      assert.equal(last?.done, true, `done after ${runs} runs`);
      assert.ok(runs >= 2, 'the gallery does not fit in one run (else this test proves nothing)');
      assert.deepEqual(sorted(await savedImages(root)), sorted(site.expectedImages));
      assert.equal(last.totalImageDownloaded, 60);
      // An image is fetched again only when a run's hard stop cut it off mid-transfer: at most `concurrency` a run.
      const imageRequests = site.requests.filter((r) => r.includes(' /gallery/'));
      assert.ok(imageRequests.length <= 60 + 2 * (runs - 1), `${imageRequests.length} image requests in ${runs} runs`);
      t.diagnostic(`${runs} runs, ${imageRequests.length} image requests`);
    } finally {
      await site.close();
    }
  });

  test('a page that kills the crawler process each time is given up after maxAttempts runs alone, and the rest of the site is crawled', { timeout: 180_000 }, async () => {
    const start = '<a href="/poison.html">poison</a> <a href="/page/0.html">tree</a>';
    const site = await startTestSite({ features: false, pages: 7, imagesPerPage: 1, extraPages: { '/start.html': start, '/poison.html': 'never seen' } });
    try {
      const root = await nasFolders.make();
      const payload = testPayload(`${site.origin}/start.html`, root, { maxAttempts: 3 });
      let current: ChildProcess | null = null;
      site.onRequest = (p) => {
        if (p === '/poison.html') current?.kill('SIGKILL');
      };
      const results: (CrawlResult | null)[] = [];
      while (results.length < 12 && !results.at(-1)?.done) results.push(await crawlInChild(payload, (c) => (current = c)));
      const last = results.at(-1);
      assert.equal(last?.done, true, `results: ${JSON.stringify(results.map((r) => r && { pages: r.pagesCrawledThisRun, done: r.done }))}`);
      // The first kill comes with the tree page in flight beside it: no page is charged for it, both are suspects and
      // visited alone from then on. Only the kills while alone count: maxAttempts of them.
      assert.equal(results.filter((r) => r === null).length, 1 + 3, 'killed once in company, then once per attempt alone');
      assert.equal(site.requests.filter((r) => r.endsWith(' /poison.html')).length, 1 + 3);
      assert.deepEqual(sorted(await savedImages(root)), sorted(site.expectedImages));
      assert.equal(last.totalCrawlCount, 9, 'start, the home page the tree links back to, and the 7 tree pages');
      assert.equal(last.failedCount, 1);
      const failedIn = results.find((r) => r?.errorStack.some((l) => /poison\.html: did not finish in 3 runs/.test(l)));
      assert.ok(failedIn, 'the run that gave it up names it');
    } finally {
      await site.close();
    }
  });
});
