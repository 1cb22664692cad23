import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { cascadeCandidates, DEBIAN_CASCADE_DIR, findCascadeFile, PROPOSAL_CASCADE } from '../../src/image/cascade';
import { embeddedImage, PHOTOS, send, suiteNas } from './nas-fixture';

interface FacesJson {
  width: number;
  height: number;
  faces: Array<{ x: number; y: number; width: number; height: number }>;
}

describe('face detection', () => {
  const nas = suiteNas(async (img) => {
    for (const f of ['astronaut.png', 'coffee.png']) await copyFile(path.join(PHOTOS, f), img(f));
    // A large copy exercises the downscale-then-scale-back path (longest side 1600 > 800).
    await writeFile(img('astronaut-large.jpg'), await sharp(path.join(PHOTOS, 'astronaut.png')).resize(1600).jpeg().toBuffer());
    // RGBA: the photo inside a transparent border whose hidden colour is black; the detector sees it over white.
    const border = { top: 100, bottom: 100, left: 100, right: 100, background: { r: 0, g: 0, b: 0, alpha: 0 } };
    await writeFile(img('astronaut-transparent.png'), await sharp(path.join(PHOTOS, 'astronaut.png')).ensureAlpha().extend(border).png().toBuffer());
  });

  const faces = async (file: string): Promise<FacesJson> => {
    const reply = await send(nas.root, `/img/${file}`, { query: { action: 'facedetect', format: 'json' } });
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.headers['content-type'], /^application\/json/);
    return JSON.parse(reply.text) as FacesJson;
  };

  it('finds the one face in the astronaut photo, where the face is', async () => {
    const result = await faces('astronaut.png');
    assert.equal(result.width, 512);
    assert.equal(result.faces.length, 1);
    const [f] = result.faces;
    // Eileen Collins' face is centred near (225, 120) in the 512x512 portrait.
    assert.ok(Math.abs(f.x + f.width / 2 - 225) < 40 && Math.abs(f.y + f.height / 2 - 125) < 40, JSON.stringify(f));
    assert.ok(f.width > 40 && f.width < 160, JSON.stringify(f));
  });

  it('scales boxes back to the original size after detecting on a downscaled copy', async () => {
    const result = await faces('astronaut-large.jpg');
    assert.equal(result.width, 1600);
    assert.equal(result.faces.length, 1);
    const [f] = result.faces;
    assert.ok(Math.abs(f.x + f.width / 2 - 225 * 3.125) < 125, JSON.stringify(f));
  });

  it('finds the face in a photo with transparency, where it is', async () => {
    const result = await faces('astronaut-transparent.png');
    assert.equal(result.width, 712);
    assert.equal(result.faces.length, 1, JSON.stringify(result.faces));
    const [f] = result.faces;
    assert.ok(Math.abs(f.x + f.width / 2 - 325) < 40 && Math.abs(f.y + f.height / 2 - 225) < 40, JSON.stringify(f));
  });

  it('finds no face in a face-free photo', async () => {
    assert.deepEqual((await faces('coffee.png')).faces, []);
  });

  it('draws a red rectangle into the HTML result', async () => {
    const reply = await send(nas.root, '/img/astronaut.png', { query: { action: 'facedetect' } });
    assert.equal(reply.status, 200);
    assert.match(reply.text, /<td>Faces<\/td><td>1<\/td>/);
    const box = (await faces('astronaut.png')).faces[0];
    const { data, info } = await sharp(embeddedImage(reply.text).data).raw().toBuffer({ resolveWithObject: true });
    const o = ((box.y + 1) * info.width + box.x + Math.round(box.width / 2)) * info.channels;
    const [r, g, b] = data.subarray(o, o + 3);
    assert.ok(r > 200 && g < 90 && b < 110, `top edge pixel is red: ${r},${g},${b}`);
  });

  describe('cascade file lookup', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'cascades-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('prefers OPENCV_CASCADE_DIR, then the npm package, then Debian', async () => {
      const file = PROPOSAL_CASCADE.file;
      const packaged = `/pkg/${file}`;
      const list = cascadeCandidates(PROPOSAL_CASCADE, { OPENCV_CASCADE_DIR: dir }, packaged);
      assert.deepEqual(list, [
        path.join(dir, file),
        path.join(dir, 'lbpcascades', file),
        packaged,
        path.join(DEBIAN_CASCADE_DIR, file),
        path.join(DEBIAN_CASCADE_DIR, 'lbpcascades', file),
      ]);
      await writeFile(path.join(dir, file), '<opencv_storage/>');
      assert.equal(findCascadeFile(PROPOSAL_CASCADE, { OPENCV_CASCADE_DIR: dir }, packaged), path.join(dir, file));
      assert.equal(findCascadeFile(PROPOSAL_CASCADE, {}, undefined), path.join(DEBIAN_CASCADE_DIR, 'lbpcascades', file));
    });
  });
});

describe('concurrent face detection', () => {
  it('gives every one of many simultaneous detections the same, correct answer', async () => {
    const { readFile } = await import('node:fs/promises');
    const { decodeImage } = await import('../../src/image/source');
    const { DEFAULT_LIMITS } = await import('../../src/image/limits');
    const { detectFaces } = await import('../../src/image/faces');
    const decoded = await decodeImage(await readFile(path.join(PHOTOS, 'astronaut.png')), DEFAULT_LIMITS);
    assert.ok(decoded.ok);
    // One shared classifier crashed inside OpenCV (setWindow / vector range check) at this concurrency.
    const results = await Promise.all(Array.from({ length: 24 }, () => detectFaces(decoded.value)));
    for (const boxes of results) assert.deepEqual(boxes, results[0]);
    assert.equal(results[0].length, 1);
  });
});
