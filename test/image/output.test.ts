import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { analyseContent } from '../../src/image/output-format';
import { embeddedImage, PHOTOS, send, suiteNas, twoToneImage } from './nas-fixture';

const chart = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="320"><rect width="100%" height="100%" fill="#fafafa"/>` +
    `<rect x="40" y="120" width="60" height="160" fill="#3a6"/><rect x="140" y="60" width="60" height="220" fill="#36a"/>` +
    `<text x="30" y="40" font-size="22" font-family="sans-serif">Quarterly results</text></svg>`,
);

describe('output format by content, and caching', () => {
  const nas = suiteNas(async (img) => {
    await copyFile(path.join(PHOTOS, 'astronaut.png'), img('photo.png'));
    await writeFile(img('chart.jpg'), await sharp(chart).jpeg({ quality: 95 }).toBuffer());
    await writeFile(img('chart.png'), await sharp(chart).png().toBuffer());
    await writeFile(img('logo.png'), await sharp(await twoToneImage()).removeAlpha().ensureAlpha(0.5).png().toBuffer());
  });

  it('a PNG photo is embedded as JPEG, smaller than a PNG of the same pixels', async () => {
    const page = await send(nas.root, '/img/photo.png', { query: { action: 'show' } });
    const { mime, data } = embeddedImage(page.text);
    assert.equal(mime, 'image/jpeg');
    const png = await sharp(path.join(PHOTOS, 'astronaut.png')).png({ adaptiveFiltering: true }).toBuffer();
    assert.ok(data.length < png.length / 4, `${data.length} vs PNG ${png.length}`);
  });

  it('a graphic becomes a palette PNG, whatever its file extension', async () => {
    for (const file of ['chart.jpg', 'chart.png']) {
      const { mime, data } = embeddedImage((await send(nas.root, `/img/${file}`)).text);
      assert.equal(mime, 'image/png', file);
      const meta = await sharp(data).metadata();
      assert.ok(meta.isPalette, `${file} is palette-based`);
    }
  });

  it('an image with transparency stays PNG', async () => {
    const reply = await send(nas.root, '/img/logo.png', { query: { action: 'flop', raw: '1' } });
    assert.equal(reply.headers['content-type'], 'image/png');
    assert.equal((await sharp(reply.body).metadata()).hasAlpha, true);
  });

  it('classifies by pixels: colour and grey photos, a photo on a white canvas, a drawn chart', async () => {
    const kind = async (input: Sharp) => {
      const { data, info } = await input.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      return analyseContent({ pixels: data, width: info.width, height: info.height, channels: info.channels === 4 ? 4 : 3 });
    };
    const photo = path.join(PHOTOS, 'astronaut.png');
    assert.deepEqual(await kind(sharp(photo)), { graphic: false, alpha: false });
    assert.deepEqual(await kind(sharp(path.join(PHOTOS, 'camera.png'))), { graphic: false, alpha: false });
    const productShot = sharp({ create: { width: 900, height: 900, channels: 3, background: '#ffffff' } }).composite([{ input: await sharp(photo).resize(300).toBuffer() }]);
    assert.deepEqual(await kind(sharp(await productShot.png().toBuffer())), { graphic: false, alpha: false });
    assert.deepEqual(await kind(sharp(chart)), { graphic: true, alpha: false });
  });

  it('format= picks the raw encoding and its Content-Type', async () => {
    for (const [format, type] of [['png', 'image/png'], ['jpeg', 'image/jpeg'], ['jpg', 'image/jpeg'], ['webp', 'image/webp']]) {
      const reply = await send(nas.root, '/img/photo.png', { query: { action: 'show', format } });
      assert.equal(reply.headers['content-type'], type);
      assert.equal((await sharp(reply.body).metadata()).format, format === 'jpg' ? 'jpeg' : format);
    }
  });

  it('sends an ETag from content and parameters, Cache-Control, and 304 for If-None-Match', async () => {
    const first = await send(nas.root, '/img/photo.png', { query: { action: 'rotate', angle: '90' } });
    const etag = first.headers.etag;
    assert.match(etag, /^"[A-Za-z0-9_-]{32}"$/);
    assert.ok(first.headers['cache-control']);
    assert.equal((await send(nas.root, '/img/photo.png', { query: { action: 'rotate', angle: '90.0' } })).headers.etag, etag, 'same normalised request');
    assert.notEqual((await send(nas.root, '/img/photo.png', { query: { action: 'rotate', angle: '-90' } })).headers.etag, etag);
    assert.notEqual((await send(nas.root, '/img/photo.png', { query: { action: 'rotate', angle: '90', raw: '1' } })).headers.etag, etag);

    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const cached = await send(nas.root, '/img/photo.png', { query: { action: 'rotate', angle: '90' }, headers: { 'if-none-match': header } });
      assert.equal(cached.status, 304, header);
      assert.equal(cached.body.length, 0);
      assert.equal(cached.headers.etag, etag);
      assert.equal(cached.headers['cache-control'], 'no-cache', 'the page always revalidates');
    }
    const raw = await send(nas.root, '/img/photo.png', { query: { action: 'rotate', angle: '90', raw: '1' } });
    const rawCached = await send(nas.root, '/img/photo.png', { query: { action: 'rotate', angle: '90', raw: '1' }, headers: { 'if-none-match': raw.headers.etag } });
    assert.equal(rawCached.status, 304);
    assert.equal(rawCached.headers['cache-control'], raw.headers['cache-control']);
    assert.match(raw.headers['cache-control'], /max-age=3600/);
    assert.equal((await send(nas.root, '/img/photo.png', { query: { action: 'rotate', angle: '90' }, headers: { 'if-none-match': '"stale"' } })).status, 200);

    // New content under the same name gets a new tag.
    await copyFile(path.join(PHOTOS, 'coffee.png'), path.join(nas.root, 'img', 'photo.png'));
    const changed = await send(nas.root, '/img/photo.png', { query: { action: 'rotate', angle: '90' }, headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.etag, etag);
  });

  it('a file rewritten in place with the same size and modification time still gets a new tag', async () => {
    // Uncompressed PNGs of one size have one length, whatever their pixels.
    const solid = (background: string) => sharp({ create: { width: 64, height: 64, channels: 3, background } }).png({ compressionLevel: 0 }).toBuffer();
    const [red, blue] = await Promise.all([solid('#f00'), solid('#00f')]);
    assert.equal(red.length, blue.length);
    const file = path.join(nas.root, 'img', 'same-size.png');
    const mtime = 1_700_000_000; // whole seconds, so setting it again gives exactly the same time
    await writeFile(file, red);
    await utimes(file, mtime, mtime);
    const first = await send(nas.root, '/img/same-size.png', { query: { action: 'show', raw: '1' } });
    await writeFile(file, blue);
    await utimes(file, mtime, mtime);
    assert.equal((await stat(file)).mtimeMs, mtime * 1000);
    const second = await send(nas.root, '/img/same-size.png', { query: { action: 'show', raw: '1' } });
    assert.notEqual(second.headers.etag, first.headers.etag);
  });
});
