import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readManifest } from '../../src/collection/manifest';
import type { CrawlResult } from '../../src/crawler/run';
import { crawlOnce, savedImages, sorted, tempNasFolders, testConfig, testPayload } from './helpers';
import { startTestSite, type TestSite } from './site';

const CHILD = path.join(__dirname, 'crawl-child.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a run leaves on the NAS: the newest lease number (each run takes a new one) and the pages marked crawled. */
async function progress(root: string): Promise<{ lease: number; journal: number }> {
  const dir = path.join(root, 'crawl-state');
  let lease = 0;
  let journal = 0;
  for (const name of await fs.readdir(dir).catch(() => [])) {
    if (name.startsWith('lease.')) lease = Math.max(lease, Number(name.slice(6)));
    // A run seals the previous run's segment by renaming it: a name just listed may be gone.
    if (name.startsWith('journal.')) journal += ((await fs.readFile(path.join(dir, name), 'utf8').catch(() => '')).match(/^V\t/gm) ?? []).length;
  }
  return { lease, journal };
}

/** Starts a crawler process; `result` settles with its printed result, or null when it was killed. */
function startChild(payload: Record<string, unknown>) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(payload)], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, LOG_LEVEL: 'error' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const result = new Promise<CrawlResult | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') return resolve(null);
      if (code !== 0) return reject(new Error(`crawler child exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as CrawlResult);
    });
  });
  return { child, result };
}

describe('crawler processes killed and overlapping', () => {
  let site: TestSite;
  const nasFolders = tempNasFolders();
  const nas = () => nasFolders.make();
  before(async () => {
    // /slow.html never answers in time: it would keep the crawl waiting for retries that only a later clock allows.
    site = await startTestSite({ pages: 160, imagesPerPage: 2, latencyMs: 15, skipFeatures: ['/slow.html'] });
  });
  after(async () => {
    await site.close();
    await nasFolders.removeAll();
  });

  test('20 SIGKILLs at random moments: the final image set is exact, with no partial file at any time', { timeout: 150_000 }, async (t) => {
    const root = await nas();
    // 20 kills in a row may land on the same page's attempts (a page cut off by a kill is taken again first):
    // maxAttempts above the number of kills, so that no page is given up as a poison page here.
    const payload = testPayload(site.url, root, { numberOfPages: 8, concurrency: 2, maxAttempts: 25 });
    let kills = 0;
    let last: CrawlResult | null = null;
    let runs = 0;
    let killedMidCrawl = 0;
    for (; runs < 100 && !last?.done; runs++) {
      const { child, result } = startChild(payload);
      if (kills < 20) {
        // Process start-up is not interesting: wait for the run to take its lease. Every other kill also waits for
        // the run's first commit, so that kills land mid-crawl however fast or loaded the machine is.
        const before = await progress(root);
        const afterCommit = kills % 2 === 1;
        const reached = (now: { lease: number; journal: number }) =>
          now.lease > before.lease && (!afterCommit || now.journal !== before.journal);
        while (child.exitCode === null && !reached(await progress(root))) await sleep(5);
        await sleep(Math.random() * (afterCommit ? 150 : 400));
        if (child.exitCode === null && child.kill('SIGKILL')) {
          kills++;
          if ((await progress(root)).journal !== before.journal) killedMidCrawl++;
        }
        last = await result;
      } else {
        last = await result;
        assert.ok(last, 'an unkilled run returns its result');
        assert.equal(last.skipped, null, 'a killed holder never blocks the next run (dead PID frees the lease)');
      }
      await savedImages(root); // throws on a file whose content does not match its name
    }
    t.diagnostic(`${kills} kills in ${runs} runs, ${killedMidCrawl} of them after the run had committed pages`);
    assert.equal(kills, 20);
    assert.ok(killedMidCrawl >= 10, 'at least half the kills land after the run has committed pages');
    assert.equal(last?.done, true);
    assert.deepEqual(sorted(await savedImages(root)), sorted(site.expectedImages));
    assert.equal(last.totalImageDownloaded, site.expectedImages.size);
    assert.equal((await readManifest(root)).size, site.expectedImages.size);
    assert.deepEqual(await fs.readdir(path.join(root, 'crawl-state', 'tmp')), []);
  });

  test('every invocation sees what another process wrote: nothing is crawled twice', async () => {
    const root = await nas();
    site.requests.length = 0;
    const here = await crawlOnce(testConfig(site.url, root, { numberOfPages: 4 }));
    const there = await startChild(testPayload(site.url, root, { numberOfPages: 4 })).result;
    const hereAgain = await crawlOnce(testConfig(site.url, root, { numberOfPages: 4 }));
    assert.ok(there);
    assert.equal(there.totalCrawlCount, here.totalCrawlCount + there.pagesCrawledThisRun);
    assert.equal(hereAgain.totalCrawlCount, there.totalCrawlCount + hereAgain.pagesCrawledThisRun);
    const pages = site.requests.filter((r) => r.includes('/page/'));
    assert.equal(new Set(pages).size, pages.length, 'no page was fetched twice');
  });
});
