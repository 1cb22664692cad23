import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { crawlOnce, tempNasFolders, testConfig } from './helpers';
import { startTestSite } from './site';

const nasFolders = tempNasFolders();
after(() => nasFolders.removeAll());

async function journalBytes(root: string): Promise<number> {
  const dir = path.join(root, 'crawl-state');
  let total = 0;
  for (const name of await fs.readdir(dir)) if (name.startsWith('journal.')) total += (await fs.stat(path.join(dir, name))).size;
  return total;
}

describe('bounded growth (issue 11 §3)', () => {
  test('a link bomb (289 KB of <a href="?N"> under a 1,500-character URL, every page the same) leaves a journal under 5 MB', { timeout: 600_000 }, async (t) => {
    const longLink = `/long/${'x'.repeat(3000)}`;
    const site = await startTestSite({ features: false, pages: 1, imagesPerPage: 0, linkBomb: true, homeExtra: `<a href="${longLink}">long</a>` });
    try {
      const root = await nasFolders.make();
      const logs: string[] = [];
      // A bomb page costs about 0.5 s of parsing here (more on a loaded machine): 40 pages, and time enough for them.
      const config = testConfig(site.url, root, { numberOfPages: 40, maxPageBytes: 5 * 1024 * 1024, debug: true });
      const result = await crawlOnce(config, logs, 'bomb', { deadline: Date.now() + 540_000 });
      assert.equal(result.error, undefined);
      assert.equal(result.pagesCrawledThisRun, 40);
      const bytes = await journalBytes(root);
      t.diagnostic(`${result.pagesCrawledThisRun} pages, frontier ${result.frontierSize}, journal ${(bytes / 1024).toFixed(0)} KB`);
      assert.ok(bytes < 5 * 1024 * 1024, `journal ${bytes} bytes`);
      // maxLinksPerPage: 5,000 of the 12,000 links are kept, the rest counted in the debug log.
      assert.ok(result.frontierSize <= 5000, `frontier ${result.frontierSize}`);
      const dropped = logs.map((l) => JSON.parse(l) as { msg: string; dropped?: number }).find((l) => l.msg === 'links dropped: too many');
      assert.equal(dropped?.dropped, 7_000);
      // maxUrlLength: the 3,000-character link is dropped, never fetched.
      assert.ok(!site.requests.some((r) => r.includes('/long/')));
      // The state loads back the same.
      const again = await crawlOnce(testConfig(site.url, root, { numberOfPages: 1, maxPageBytes: 5 * 1024 * 1024 }));
      assert.equal(again.totalCrawlCount, result.totalCrawlCount + 1);
      assert.equal(again.frontierSize, result.frontierSize - 1);
      // 41 pages in two runs, each fetched once (the home page, bomb pages, and /page/0.html if a slot took it).
      assert.equal(site.requests.filter((r) => !r.endsWith('/robots.txt') && !r.endsWith('/sitemap.xml')).length, 41);
    } finally {
      await site.close();
    }
  });
});
