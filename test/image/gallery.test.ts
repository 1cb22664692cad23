import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { PAGE_SIZE } from '../../src/image/gallery';
import { PHOTOS, send, tempNas } from './nas-fixture';

const hrefs = (html: string) => [...html.matchAll(/<li><a href="([^"]+)">/g)].map((m) => m[1]);

describe('gallery', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let crawled: string;
  const base = Date.parse('2026-01-01T00:00:00Z') / 1000;

  before(async () => {
    ({ root, cleanup } = await tempNas());
    for (const dir of ['site/img', 'site/crawl-state', '.tmp', 'more']) await mkdir(path.join(root, dir), { recursive: true });
    const astronaut = await readFile(path.join(PHOTOS, 'astronaut.png'));
    const small = await sharp(astronaut).resize(48).jpeg().toBuffer();
    // 30 images, each a minute newer than the last; names do not sort the same way as times.
    for (let i = 0; i < 30; i++) {
      const file = path.join(root, 'more', `n${(i * 7) % 30}-${i}.jpg`);
      await writeFile(file, small);
      await utimes(file, base + i * 60, base + i * 60);
    }
    const hash = createHash('sha256').update(astronaut).digest('hex');
    crawled = `site/img/${hash}.png`;
    await writeFile(path.join(root, crawled), astronaut);
    await utimes(path.join(root, crawled), base + 10_000, base + 10_000);
    await writeFile(
      path.join(root, 'site/manifest.jsonl'),
      JSON.stringify({ file: `img/${hash}.png`, sourceUrl: 'http://127.0.0.1:1/a<b>.png', page: 'http://127.0.0.1:1/', width: 512, height: 512, bytes: astronaut.length, savedAt: '2026-01-01T03:00:00.000Z' }) + '\n{"torn',
    );
    await writeFile(path.join(root, 'site/img/broken.png'), astronaut.subarray(0, 100));
    await utimes(path.join(root, 'site/img/broken.png'), base + 9_000, base + 9_000);
    await writeFile(path.join(root, 'site/img/notes.txt'), 'not listed');
    await writeFile(path.join(root, 'site/crawl-state/tmp.png'), small);
    await writeFile(path.join(root, '.tmp/hidden.png'), small);
  });
  after(() => cleanup());

  it('lists the images under / newest first, with thumbnails, skipping hidden and state folders', async () => {
    const reply = await send(root, '/');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /32 images, newest first/);
    const links = hrefs(reply.text);
    assert.equal(links.length, PAGE_SIZE);
    assert.equal(links[0], `/${crawled}`);
    assert.equal(links[1], '/site/img/broken.png');
    assert.equal(links[2], '/more/n23-29.jpg');
    assert.ok(!reply.text.includes('hidden.png') && !reply.text.includes('crawl-state') && !reply.text.includes('notes.txt'));
    assert.equal((reply.text.match(/src="data:image\/webp;base64,/g) ?? []).length, PAGE_SIZE - 1);
    assert.match(reply.text, /no preview: the image (header|data) (cannot be read|is corrupt)/);
  });

  it('paginates', async () => {
    const second = await send(root, '/', { query: { page: '2' } });
    assert.deepEqual(hrefs(second.text).slice(-1), ['/more/n0-0.jpg']);
    assert.equal(hrefs(second.text).length, 32 - PAGE_SIZE);
    assert.match(second.text, /page 2 of 2/);
    const beyond = await send(root, '/', { query: { page: '9' } });
    assert.equal(beyond.status, 200);
    assert.equal(hrefs(beyond.text).length, 0);
  });

  it('a folder path shows the gallery of that folder only', async () => {
    const reply = await send(root, '/site/img/');
    assert.equal(reply.status, 200);
    assert.deepEqual(hrefs(reply.text), [`/${crawled}`, '/site/img/broken.png']);
  });

  it("an image page shows the crawler's source URL, escaped", async () => {
    const reply = await send(root, `/${crawled}`);
    assert.equal(reply.status, 200);
    assert.ok(reply.text.includes('http://127.0.0.1:1/a&lt;b&gt;.png'));
    assert.ok(reply.text.includes('2026-01-01T03:00:00.000Z'));
    assert.ok(!reply.text.includes('Gone from the site'));
    const plain = await send(root, '/more/n0-0.jpg');
    assert.equal(plain.status, 200);
    assert.ok(!plain.text.includes('Source URL'));
  });

  it('an image page says when the crawler found its image on no page any more (goneSince)', async () => {
    const manifest = path.join(root, 'site/manifest.jsonl');
    const original = await readFile(manifest, 'utf8');
    try {
      // After the fixture's torn last line, on a line of its own.
      await writeFile(manifest, original + '\n' + JSON.stringify({ sourceUrl: 'http://127.0.0.1:1/a<b>.png', goneSince: '2026-07-01T00:00:00.000Z' }) + '\n');
      const reply = await send(root, `/${crawled}`);
      assert.equal(reply.status, 200);
      assert.match(reply.text, /Gone from the site.*since 2026-07-01T00:00:00\.000Z/);
    } finally {
      await writeFile(manifest, original);
    }
  });

  it("an image page's tag covers its manifest entry, and its 304 still says no-cache", async () => {
    const manifest = path.join(root, 'site/manifest.jsonl');
    const original = await readFile(manifest, 'utf8');
    const first = await send(root, `/${crawled}`);
    assert.equal(first.headers['cache-control'], 'no-cache');
    const etag = first.headers.etag;
    const revalidated = await send(root, `/${crawled}`, { headers: { 'if-none-match': etag } });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.headers['cache-control'], 'no-cache', 'a 304 must not make the page fresh for an hour');
    try {
      await writeFile(manifest, original.replace('a<b>.png', 'moved.png'));
      const changed = await send(root, `/${crawled}`, { headers: { 'if-none-match': etag } });
      assert.equal(changed.status, 200, 'a new source URL is a new page');
      assert.notEqual(changed.headers.etag, etag);
      assert.ok(changed.text.includes('http://127.0.0.1:1/moved.png'));
    } finally {
      await writeFile(manifest, original);
    }
  });

  it('escapes hostile file names in the gallery and links to them correctly', async () => {
    const name = `x"'<b>&.jpg`;
    await mkdir(path.join(root, 'odd'));
    await writeFile(path.join(root, 'odd', name), await sharp(path.join(PHOTOS, 'coffee.png')).resize(40).jpeg().toBuffer());
    const gallery = await send(root, '/odd');
    assert.equal(gallery.status, 200);
    assert.ok(!gallery.text.includes('<b>'));
    assert.ok(gallery.text.includes('x&quot;&#39;&lt;b&gt;&amp;.jpg'));
    const [href] = hrefs(gallery.text);
    assert.equal(href, '/odd/x%22&#39;%3Cb%3E%26.jpg');
    assert.equal((await send(root, href.replace('&#39;', "'"))).status, 200);
  });

  it('works with an empty NAS', async () => {
    const empty = await tempNas();
    try {
      const reply = await send(empty.root, '/');
      assert.equal(reply.status, 200);
      assert.match(reply.text, /No images yet/);
    } finally {
      await empty.cleanup();
    }
  });
});
