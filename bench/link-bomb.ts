/**
 * One crawler run of 100 pages on the link bomb of test/crawler/site.ts (12,000 `<a href="?N">` under a
 * 1,500-character URL, every ?N page the same): prints the journal written, the pages crawled and the peak RSS.
 * Usage: npx tsx bench/link-bomb.ts
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crawlOnce, testConfig } from '../test/crawler/helpers';
import { startTestSite } from '../test/crawler/site';

async function main(): Promise<void> {
  const site = await startTestSite({ features: false, pages: 1, imagesPerPage: 0, linkBomb: true });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'link-bomb-'));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = Date.now();
  try {
    const result = await crawlOnce(testConfig(site.url, root, { numberOfPages: 100, maxPageBytes: 5 * 1024 * 1024 }));
    let journal = 0;
    const dir = path.join(root, 'crawl-state');
    for (const name of await fs.readdir(dir)) if (name.startsWith('journal.')) journal += (await fs.stat(path.join(dir, name))).size;
    console.log(`pages ${result.pagesCrawledThisRun}, frontier ${result.frontierSize}, journal ${Math.round(journal / 1024)} KB, peak RSS ${Math.round(peak / 1048576)} MB, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    clearInterval(sampler);
    await site.close();
    await fs.rm(root, { recursive: true, force: true });
  }
}

void main();
