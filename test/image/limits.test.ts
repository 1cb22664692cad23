import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { PHOTOS, send, suiteNas } from './nas-fixture';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid 1-bit PNG of side x side black pixels: a few tens of KB on disk, side² pixels once decoded. */
function bombPng(side: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(side / 8)) * side); // filter byte 0 + zero bits per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('limits and untrusted files', () => {
  const nas = suiteNas(async (img) => {
    const astronaut = await readFile(path.join(PHOTOS, 'astronaut.png'));
    await writeFile(img('bomb.png'), bombPng(20_000));
    await writeFile(img('truncated.png'), astronaut.subarray(0, astronaut.length >> 1));
    const jpeg = await sharp(astronaut).jpeg().toBuffer();
    await writeFile(img('truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    await writeFile(img('header-only.png'), astronaut.subarray(0, 40));
    await writeFile(img('text.jpg'), 'this is not an image, whatever its name says\n');
    await writeFile(img('drawing.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>');
    await writeFile(img('drawing.png'), '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    await writeFile(img('small.png'), await sharp(astronaut).resize(64).png().toBuffer());
    await writeFile(img('bitmap.bmp'), Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]));
    await writeFile(img('strip.png'), await sharp({ create: { width: 20_000, height: 4, channels: 3, background: '#888' } }).png().toBuffer());
    const noise = { type: 'gaussian' as const, mean: 128, sigma: 40 };
    await writeFile(img('wide-photo.png'), await sharp({ create: { width: 70_000, height: 4, channels: 3, background: '#000', noise } }).png().toBuffer());
    const frame = (colour: string) => sharp({ create: { width: 40, height: 30, channels: 3, background: colour } }).png().toBuffer();
    await writeFile(img('animated.gif'), await sharp([await frame('#ff0000'), await frame('#0000ff')], { join: { animated: true } }).gif().toBuffer());
  });

  it('refuses a decompression-bomb PNG with 413 before decoding it', async () => {
    const reply = await send(nas.root, '/img/bomb.png', { query: { action: 'show' } });
    assert.equal(reply.status, 413);
    // The header check's message: the refusal came before any decoding.
    assert.match(reply.text, /image is 20000x20000 = 400\.0 MP; the limit is 40\.0 MP/);
  });

  it('honours IMAGE_MAX_PIXELS and IMAGE_MAX_BYTES', async () => {
    try {
      process.env.IMAGE_MAX_PIXELS = '1000';
      assert.equal((await send(nas.root, '/img/small.png', { query: { raw: '1' } })).status, 413);
      delete process.env.IMAGE_MAX_PIXELS;
      process.env.IMAGE_MAX_BYTES = '100';
      const reply = await send(nas.root, '/img/small.png', { query: { raw: '1' }, headers: { accept: 'application/json' } });
      assert.equal(reply.status, 413);
      assert.match(JSON.parse(reply.text).error.message, /the limit is 100 bytes/);
    } finally {
      delete process.env.IMAGE_MAX_PIXELS;
      delete process.env.IMAGE_MAX_BYTES;
    }
    assert.equal((await send(nas.root, '/img/small.png', { query: { raw: '1' } })).status, 200);
  });

  for (const file of ['truncated.png', 'truncated.jpg', 'header-only.png']) {
    it(`answers a 4xx, not a 500, for ${file}`, async () => {
      for (const query of [{}, { action: 'rotate', angle: '90' }, { action: 'facedetect', format: 'json' }] as Record<string, string>[]) {
        const reply = await send(nas.root, `/img/${file}`, { query });
        assert.ok(reply.status >= 400 && reply.status < 500, `${JSON.stringify(query)} -> ${reply.status}`);
      }
    });
  }

  it('processes only files that are images by magic bytes: text and SVG get 415', async () => {
    for (const file of ['text.jpg', 'drawing.svg', 'drawing.png']) {
      const reply = await send(nas.root, `/img/${file}`, { query: { action: 'show' } });
      assert.equal(reply.status, 415, file);
      assert.doesNotMatch(reply.text, /root:x:0/);
    }
    assert.equal((await send(nas.root, '/img/bitmap.bmp')).status >= 400, true);
    assert.ok((await send(nas.root, '/img/bitmap.bmp')).status < 500);
  });

  it('holds results to the limits: rotated canvas size and each format\'s largest side', async () => {
    const rotated = await send(nas.root, '/img/strip.png', { query: { action: 'rotate', angle: '45' } });
    assert.equal(rotated.status, 413);
    assert.match(rotated.text, /the result would be 14145x14145 pixels/);
    assert.equal((await send(nas.root, '/img/strip.png', { query: { action: 'rotate', angle: '90', raw: '1' } })).status, 200);
    const webp = await send(nas.root, '/img/strip.png', { query: { action: 'show', format: 'webp' } });
    assert.equal(webp.status, 413);
    assert.match(webp.text, /format=webp holds at most 16383 px per side/);
    // A photo too wide for JPEG is sent as PNG rather than failing.
    const wide = await send(nas.root, '/img/wide-photo.png', { query: { action: 'flop', raw: '1' } });
    assert.equal(wide.status, 200);
    assert.equal(wide.headers['content-type'], 'image/png');
  });

  it('uses the first frame of an animated image', async () => {
    const reply = await send(nas.root, '/img/animated.gif', { query: { action: 'show', format: 'png' } });
    assert.equal(reply.status, 200);
    const { data, info } = await sharp(reply.body).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [40, 30]);
    assert.deepEqual([...data.subarray(0, 3)], [255, 0, 0]);
  });
});
