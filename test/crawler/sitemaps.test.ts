import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { MAX_SITEMAP_URLS, parseSitemap } from '../../src/crawler/sitemaps';
import { crawlOnce, savedImages, tempNasFolders, testConfig } from './helpers';
import { noisePng, startTestSite, type OverrideAnswer, type TestSite } from './site';

const urlset = (urls: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls.map((u) => `<url><loc>${u}</loc><lastmod>2026-01-01</lastmod></url>`).join('')}</urlset>`;
const sitemapIndex = (urls: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls.map((u) => `<sitemap><loc>${u}</loc></sitemap>`).join('')}</sitemapindex>`;
const xml = (body: string | Buffer, type = 'application/xml'): OverrideAnswer => ({ status: 200, type, body });

describe('sitemap parsing', () => {
  test('urlset and sitemapindex locs, entities decoded, namespace prefixes ignored, other documents yield nothing', () => {
    const parsed = parseSitemap(urlset(['https://a.example/x?p=1&amp;q=2', ' https://a.example/y ']));
    assert.deepEqual({ ...parsed, lastmod: undefined }, { kind: 'urlset', locs: ['https://a.example/x?p=1&q=2', 'https://a.example/y'], lastmod: undefined, truncated: false });
    assert.deepEqual(parseSitemap(sitemapIndex(['https://a.example/s1.xml.gz'])).locs, ['https://a.example/s1.xml.gz']);
    const prefixed = '<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9"><sm:url><sm:loc>https://a.example/p</sm:loc></sm:url></sm:urlset>';
    assert.deepEqual(parseSitemap(prefixed).locs, ['https://a.example/p']);
    assert.deepEqual(parseSitemap('<html><body><url><loc>https://a.example/</loc></url></body></html>'), { kind: 'other', locs: [], lastmod: new Map(), truncated: false });
    // A <loc> that is not an entry's own (an image extension's) is not a page.
    const withImage = '<urlset><url><loc>https://a.example/p</loc><image:image><image:loc>https://a.example/i.png</image:loc></image:image></url></urlset>';
    assert.deepEqual(parseSitemap(withImage).locs, ['https://a.example/p']);
  });

  test('<lastmod> before or after <loc>, as a W3C date or datetime; a bad one is ignored', () => {
    const xml =
      '<urlset><url><loc>https://a.example/a</loc><lastmod>2026-11-01</lastmod></url>' +
      '<url><lastmod>2026-11-02T10:00:00+01:00</lastmod><loc>https://a.example/b</loc></url>' +
      '<url><loc>https://a.example/c</loc><lastmod>yesterday</lastmod></url><url><loc>https://a.example/d</loc></url></urlset>';
    const parsed = parseSitemap(xml);
    assert.deepEqual(parsed.locs, ['https://a.example/a', 'https://a.example/b', 'https://a.example/c', 'https://a.example/d']);
    assert.deepEqual([...parsed.lastmod], [
      [0, Date.UTC(2026, 10, 1) / 1000],
      [1, Date.UTC(2026, 10, 2, 9) / 1000],
    ]);
  });

  test(`at most ${MAX_SITEMAP_URLS} URLs per file; the rest are dropped and flagged`, () => {
    const many = urlset(Array.from({ length: MAX_SITEMAP_URLS + 5 }, (_, i) => `https://a.example/${i}`));
    const parsed = parseSitemap(many);
    assert.equal(parsed.locs.length, MAX_SITEMAP_URLS);
    assert.equal(parsed.locs.at(-1), `https://a.example/${MAX_SITEMAP_URLS - 1}`);
    assert.equal(parsed.truncated, true);
  });
});

describe('sitemaps seed the crawl', () => {
  const nasFolders = tempNasFolders();
  const sites: TestSite[] = [];
  after(async () => {
    for (const s of sites) await s.close();
    await nasFolders.removeAll();
  });

  /** A 3-page tree plus orphan pages (one image each) that only the sitemaps name. */
  async function sitemapSite(routes: (origin: string) => Record<string, OverrideAnswer>) {
    const orphanImages = new Map<string, Buffer>();
    for (let i = 1; i <= 5; i++) orphanImages.set(`/orphan/${i}.png`, await noisePng(5000 + i));
    let table: Record<string, OverrideAnswer> = {};
    const s = await startTestSite({
      pages: 3,
      imagesPerPage: 1,
      features: false,
      override: (p) => {
        const orphan = /^\/orphan\/(\d+)\.html$/.exec(p);
        if (orphan) return { status: 200, type: 'text/html', body: `<h1>orphan ${orphan[1]}</h1><img src="/orphan/${orphan[1]}.png"><a href="/orphan/deep.html">deeper</a>` };
        if (orphanImages.has(p)) return { status: 200, type: 'image/png', body: orphanImages.get(p) };
        if (p === '/orphan/deep.html') return { status: 200, type: 'text/html', body: '<h1>deep</h1>' };
        return table[p];
      },
    });
    sites.push(s);
    table = routes(s.origin);
    return s;
  }

  test('robots.txt Sitemap: lines (an index of a gzip file and a plain one) and /sitemap.xml add orphan pages, once per crawl', async () => {
    const s = await sitemapSite((origin) => ({
      '/robots.txt': { status: 200, body: `User-agent: *\nDisallow: /private/\nSitemap: ${origin}/maps/index.xml\n` },
      '/maps/index.xml': xml(sitemapIndex([`${origin}/maps/a.xml.gz`, 'b.xml'])),
      '/maps/a.xml.gz': xml(zlib.gzipSync(urlset([`${origin}/orphan/1.html`, `${origin}/orphan/2.html`, `${origin}/`, `${origin}/page/1.html`])), 'application/gzip'),
      // Out of scope, disallowed, and a page also in another sitemap: none of them is fetched (twice).
      '/maps/b.xml': xml(urlset([`${origin}/orphan/3.html`, `${origin.replace('127.0.0.1', 'localhost')}/orphan/4.html`, `${origin}/private/x.html`, `${origin}/orphan/1.html`])),
      '/sitemap.xml': xml(urlset([`${origin}/orphan/5.html`])),
    }));
    const root = await nasFolders.make();
    const logs: string[] = [];
    const first = await crawlOnce(testConfig(s.url, root, { maxDepth: 1 }), logs);
    assert.equal(first.done, true);
    assert.equal(first.failedCount, 0, first.errorStack.join('\n'));
    const paths = s.requests.map((r) => r.slice(r.indexOf(' ') + 1));
    for (const i of [1, 2, 3, 5]) assert.equal(paths.filter((p) => p === `/orphan/${i}.html`).length, 1, `orphan ${i}`);
    assert.ok(!s.requests.some((r) => r.startsWith('localhost')), 'out of scope');
    assert.ok(!paths.some((p) => p.startsWith('/private/')), 'disallowed by robots.txt');
    assert.ok(!paths.includes('/orphan/deep.html'), 'sitemap pages are at depth 1, so maxDepth 1 stops below them');
    for (const file of ['/maps/index.xml', '/maps/a.xml.gz', '/maps/b.xml', '/sitemap.xml']) assert.equal(paths.filter((p) => p === file).length, 1, file);
    // The seed is still the first page visited.
    assert.equal(paths.filter((p) => p.endsWith('.html') || p === '/')[0], '/');
    // The images of /page/0 (linked from the seed), /page/1 (listed in a sitemap) and the four orphans; /page/2 is at depth 2.
    assert.equal((await savedImages(root)).size, 2 + 4);
    assert.ok(!paths.includes('/page/2.html'));
    const read = logs.map((l) => JSON.parse(l) as { msg: string; files?: number; pages?: number }).find((l) => l.msg === 'sitemaps read');
    assert.deepEqual([read?.files, read?.pages], [4, 9]);

    // A later run does not read them again: with nothing to do it makes no request at all.
    s.requests.length = 0;
    const second = await crawlOnce(testConfig(s.url, root, { maxDepth: 1 }));
    assert.equal(second.pagesCrawledThisRun, 0);
    assert.deepEqual(s.requests, []);
    const stateDir = path.join(root, 'crawl-state');
    const segments = (await fs.readdir(stateDir)).filter((name) => name.startsWith('journal.'));
    const journal = (await Promise.all(segments.map((name) => fs.readFile(path.join(stateDir, name), 'utf8')))).join('\n');
    assert.equal(journal.split('\n').filter((l) => l.startsWith('M\t')).length, 1);
  });

  test('caps: a gzip sitemap over 10 MB decompressed is skipped, a file over 50,000 URLs is cut there; sitemaps: false reads none', async () => {
    const many = Array.from({ length: MAX_SITEMAP_URLS + 10 }, (_, i) => `/many/${i}.html`);
    const s = await sitemapSite((origin) => ({
      '/robots.txt': { status: 200, body: `User-agent: *\nSitemap: ${origin}/bomb.xml.gz\nSitemap: ${origin}/many.xml\n` },
      '/bomb.xml.gz': xml(zlib.gzipSync(urlset([`${origin}/orphan/1.html`]) + ' '.repeat(11 * 1024 * 1024)), 'application/gzip'),
      '/many.xml': xml(urlset(many.map((p) => origin + p))),
    }));
    const root = await nasFolders.make();
    const logs: string[] = [];
    const result = await crawlOnce(testConfig(s.url, root, { numberOfPages: 1 }), logs);
    assert.equal(result.pagesCrawledThisRun, 1);
    // The seed was visited; its one link and the capped sitemap's pages wait.
    assert.equal(result.frontierSize, MAX_SITEMAP_URLS + 1);
    const warnings = logs.filter((l) => l.includes('"level":"warn"')).join('\n');
    assert.match(warnings, /bomb\.xml\.gz.*larger than the cap of 10485760 bytes once decompressed/);
    assert.match(warnings, /more URLs than the cap/);

    const off = await nasFolders.make();
    s.requests.length = 0;
    await crawlOnce(testConfig(s.url, off, { sitemaps: false, numberOfPages: 1 }));
    assert.ok(!s.requests.some((r) => /bomb|many|sitemap/.test(r)), s.requests.join('\n'));
  });
});
