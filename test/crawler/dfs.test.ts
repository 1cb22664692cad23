import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { crawlOnce, tempNasFolders, testConfig } from './helpers';
import { startTestSite } from './site';

const nasFolders = tempNasFolders();
after(() => nasFolders.removeAll());

describe('depth-first at the default concurrency (issue 11 §5)', () => {
  test('a tree of fan-out 3 and depth 6: after 30 pages the deepest page visited is at depth 5 or more', async (t) => {
    // Home (depth 0) -> page 0 (depth 1); page i -> 3i+1 … 3i+3. 364 pages: page depths 1 to 6. Each page has two
    // images, so a page's links are known well before the page is done.
    const site = await startTestSite({ features: false, pages: 364, imagesPerPage: 2, fanOut: 3, latencyMs: 20 });
    try {
      const config = testConfig(site.url, await nasFolders.make(), { numberOfPages: 30 });
      assert.equal(config.concurrency, 4, 'the default');
      const result = await crawlOnce(config);
      assert.equal(result.pagesCrawledThisRun, 30);
      const depth = (i: number): number => (i === 0 ? 1 : depth(Math.floor((i - 1) / 3)) + 1);
      const pages = site.requests.filter((r) => r.includes('/page/')).map((r) => Number(/(\d+)\.html/.exec(r)![1]));
      const deepest = Math.max(...pages.map(depth));
      t.diagnostic(`first pages: ${pages.slice(0, 30).join(" ")}; depths ${pages.slice(0, 30).map(depth).join("")}; deepest depth ${deepest}`);
      assert.ok(deepest >= 5, `deepest depth ${deepest} (breadth-first would be 3)`);
    } finally {
      await site.close();
    }
  });

  test("a page's links go on top when its HTML is parsed: a free slot takes its first link before the page's siblings, while its images load", async () => {
    // /t -> /p, /q1 … /q5; /p has a 2 s image and links to /x. Slots: /p, /q1, /q2, /q3. /x is pushed as soon as /p
    // is parsed, so the first slot to free takes /x; pushing links only when /p is done would start /q4 and /q5 first.
    const site = await startTestSite({
      features: false, pages: 1, imagesPerPage: 0, gallery: { images: 1, delayMs: 2000 },
      extraPages: {
        '/t': ['/p', '/q1', '/q2', '/q3', '/q4', '/q5'].map((p) => `<a href="${p}">${p}</a>`).join(''),
        '/p': '<img src="/gallery/0.png"><a href="/x">x</a>',
        '/q1': 'q', '/q2': 'q', '/q3': 'q', '/q4': 'q', '/q5': 'q', '/x': 'x',
      },
    });
    try {
      const result = await crawlOnce(testConfig(`${site.origin}/t`, await nasFolders.make(), { requestTimeoutMs: 10_000 }));
      assert.equal(result.done, true);
      const paths = site.requests.map((r) => r.split(' ')[1]);
      assert.ok(paths.indexOf('/x') < paths.indexOf('/q4'), paths.join(' '));
    } finally {
      await site.close();
    }
  });

  test('maxDepth: a page reached again nearer the seed is expanded again (seed→A,B; A→C; C→E; B→E; E→F; maxDepth 3)', async () => {
    const site = await startTestSite({
      features: false, pages: 1, imagesPerPage: 0,
      extraPages: {
        '/s': '<a href="/a">A</a><a href="/b">B</a>',
        '/a': '<a href="/c">C</a>',
        '/c': '<a href="/e">E</a>',
        '/b': '<a href="/e">E</a>',
        '/e': '<a href="/f">F</a>',
        '/f': 'the end',
      },
    });
    try {
      const result = await crawlOnce(testConfig(`${site.origin}/s`, await nasFolders.make(), { maxDepth: 3, concurrency: 1 }));
      assert.equal(result.done, true);
      const paths = site.requests.filter((r) => !r.endsWith('/robots.txt') && !r.endsWith('/sitemap.xml')).map((r) => r.split(' ')[1]);
      assert.deepEqual(paths, ['/s', '/a', '/c', '/e', '/b', '/e', '/f'], 'E first at depth 3 (links cut), again at depth 2 via B');
      assert.equal(result.totalCrawlCount, 6, 'E counts once');
    } finally {
      await site.close();
    }
  });
});
