import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { embeddedImage, PHOTOS, send, suiteNas, twoToneImage } from './nas-fixture';

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const o = (y * info.width + x) * info.channels;
  return [...data.subarray(o, o + 4)];
}

describe('image actions', () => {
  const nas = suiteNas(async (img) => {
    await writeFile(img('two-tone.png'), await twoToneImage());
    await copyFile(path.join(PHOTOS, 'astronaut.png'), img('astronaut.png'));
    // EXIF orientation 6 (rotate 90° clockwise to view): stored 300x200, shown 200x300.
    await writeFile(img('oriented.jpg'), await sharp(await twoToneImage()).withMetadata({ orientation: 6 }).jpeg().toBuffer());
  });

  it('rotate 90 swaps the dimensions, in the HTML page and as raw bytes', async () => {
    const page = await send(nas.root, '/img/two-tone.png', { query: { action: 'rotate', angle: '90' } });
    assert.equal(page.status, 200);
    const embedded = await sharp(embeddedImage(page.text).data).metadata();
    assert.deepEqual([embedded.width, embedded.height], [200, 300]);
    const raw = await send(nas.root, '/img/two-tone.png', { query: { action: 'rotate', angle: '-90', raw: '1' } });
    assert.equal(raw.headers['content-type'], 'image/png');
    const meta = await sharp(raw.body).metadata();
    assert.deepEqual([meta.width, meta.height], [200, 300]);
    // -90 turns the red top to the left: the left column is red, the right column blue.
    assert.deepEqual((await pixel(raw.body, 5, 150)).slice(0, 3), [255, 0, 0]);
    assert.deepEqual((await pixel(raw.body, 195, 150)).slice(0, 3), [0, 0, 255]);
  });

  it('flip moves the pixels vertically and flop horizontally', async () => {
    const flipped = await send(nas.root, '/img/two-tone.png', { query: { action: 'flip', format: 'png' } });
    assert.deepEqual((await pixel(flipped.body, 10, 10)).slice(0, 3), [0, 0, 255]);
    assert.deepEqual((await pixel(flipped.body, 10, 190)).slice(0, 3), [255, 0, 0]);
    const flopped = await send(nas.root, '/img/two-tone.png', { query: { action: 'flop', format: 'png' } });
    assert.deepEqual((await pixel(flopped.body, 10, 10)).slice(0, 3), [255, 0, 0]);
  });

  it('rotates by any angle: transparent corners for PNG, white for JPEG, background= overrides', async () => {
    const png = await send(nas.root, '/img/two-tone.png', { query: { action: 'rotate', angle: '45', format: 'png' } });
    const meta = await sharp(png.body).metadata();
    assert.ok(meta.width! > 300 && meta.height! > 300, `rotated canvas grows: ${meta.width}x${meta.height}`);
    assert.equal((await pixel(png.body, 1, 1))[3], 0, 'corner is transparent');
    const jpeg = await send(nas.root, '/img/two-tone.png', { query: { action: 'rotate', angle: '-12.5', format: 'jpeg' } });
    assert.ok((await pixel(jpeg.body, 1, 1)).slice(0, 3).every((v) => v > 245), 'corner is white');
    const green = await send(nas.root, '/img/two-tone.png', { query: { action: 'rotate', angle: '30', background: '00ff00', format: 'png' } });
    assert.deepEqual(await pixel(green.body, 1, 1), [0, 255, 0, 255]);
  });

  it('treats 360 and -360 as no turn', async () => {
    for (const angle of ['360', '-360', '0']) {
      const meta = await sharp((await send(nas.root, '/img/two-tone.png', { query: { action: 'rotate', angle, raw: '1' } })).body).metadata();
      assert.deepEqual([meta.width, meta.height], [300, 200], angle);
    }
  });

  it('shows images EXIF-oriented', async () => {
    const shown = await send(nas.root, '/img/oriented.jpg', { query: { action: 'show', format: 'png' } });
    const meta = await sharp(shown.body).metadata();
    assert.deepEqual([meta.width, meta.height], [200, 300]);
  });

  it('accepts POST with a form body and with a JSON body', async () => {
    const form = await send(nas.root, '/img/two-tone.png', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=rotate&angle=90&raw=1',
    });
    assert.equal(form.status, 200);
    assert.equal((await sharp(form.body).metadata()).width, 200);
    const json = await send(nas.root, '/img/two-tone.png', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'rotate', angle: 90, format: 'webp' }),
    });
    assert.equal(json.headers['content-type'], 'image/webp');
    assert.equal((await sharp(json.body).metadata()).width, 200);
  });

  it('grayscale makes every pixel grey and keeps the size', async () => {
    const grey = await send(nas.root, '/img/two-tone.png', { query: { action: 'grayscale', format: 'png' } });
    assert.equal(grey.status, 200);
    const meta = await sharp(grey.body).metadata();
    assert.deepEqual([meta.width, meta.height], [300, 200]);
    for (const [x, y] of [[10, 10], [10, 190]]) {
      const [r, g, b] = await pixel(grey.body, x, y);
      assert.ok(r === g && g === b, `grey at ${x},${y}: ${r},${g},${b}`);
    }
    // Red and blue have different luminance, so the two halves stay apart.
    assert.notEqual((await pixel(grey.body, 10, 10))[0], (await pixel(grey.body, 10, 190))[0]);
  });

  it('blur softens the edge between the halves more with a larger sigma, and refuses a sigma outside 0.3-20', async () => {
    const edge = async (sigma: string) => {
      const reply = await send(nas.root, '/img/two-tone.png', { query: { action: 'blur', sigma, format: 'png' } });
      assert.equal(reply.status, 200, sigma);
      // Red just above the middle row: the more blur, the more blue leaks in.
      return (await pixel(reply.body, 150, 97))[2];
    };
    const [light, heavy] = [await edge('0.3'), await edge('8')];
    assert.ok(heavy > light + 40, `blue at the edge: sigma 0.3 -> ${light}, sigma 8 -> ${heavy}`);
    for (const sigma of ['0.2', '21', 'x', '']) {
      const reply = await send(nas.root, '/img/two-tone.png', { query: { action: 'blur', sigma }, headers: { accept: 'application/json' } });
      assert.equal(reply.status, 400, sigma);
      assert.match(reply.text, /sigma must be a number from 0.3 to 20/, sigma);
    }
    const missing = await send(nas.root, '/img/two-tone.png', { query: { action: 'blur' }, headers: { accept: 'application/json' } });
    assert.match(missing.text, /action=blur needs sigma/);
    const misplaced = await send(nas.root, '/img/two-tone.png', { query: { action: 'show', sigma: '2' }, headers: { accept: 'application/json' } });
    assert.match(misplaced.text, /sigma applies only to action=blur/);
  });

  it('the page without an action shows the image, its metadata and a link to each action', async () => {
    const page = await send(nas.root, '/img/astronaut.png');
    assert.equal(page.status, 200);
    assert.match(page.text, /512 × 512 px/);
    assert.match(page.text, /PNG/);
    for (const action of ['action=show', 'action=rotate&amp;angle=90', 'action=facedetect', 'action=flip', 'action=flop', 'action=grayscale', 'action=blur&amp;sigma=3']) {
      assert.ok(page.text.includes(`href="/img/astronaut.png?${action}`), action);
    }
    assert.ok(page.headers['content-security-policy'].includes("default-src 'none'"));
  });
});
