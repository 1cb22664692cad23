/**
 * The faces sidecar through the real handler: facedetect (JSON and HTML) answers from faces/<sha256>.json when an
 * instance has already detected, detects again for another detector version, and still answers when the NAS refuses
 * the write. Each case uses an image of its own, so the per-instance result cache never answers for the store.
 * Each sidecar is read at most once per instance: once on a miss, and never again after a hit (answers are kept in
 * memory).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import { facesFile, type FaceStore } from '../../src/collection/faces-store';
import { DETECTOR_VERSION, knownFaces } from '../../src/image/faces';
import { DEFAULT_LIMITS } from '../../src/image/limits';
import { renderImage } from '../../src/image/render';
import type { ImageRequest } from '../../src/image/request';
import { readImageFile } from '../../src/image/source';
import { createLogger } from '../../src/log';
import { FACE_SET_DIR } from '../../bench/faces/face-set';
import { embeddedImage, PHOTOS, send, suiteNas } from './nas-fixture';

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
const FAKE = { x: 40, y: 50, width: 60, height: 60 };

interface FacesJson {
  width: number;
  height: number;
  faces: Array<typeof FAKE>;
}

describe('faces sidecar on the NAS, through the handler', () => {
  const nas = suiteNas(async (img) => {
    await copyFile(path.join(PHOTOS, 'astronaut.png'), img('astronaut.png'));
    await copyFile(path.join(PHOTOS, 'coffee.png'), img('coffee.png'));
    await copyFile(path.join(PHOTOS, 'chelsea.png'), img('chelsea.png'));
    await copyFile(path.join(FACE_SET_DIR, 'astronaut-small-b.jpg'), img('small.jpg'));
  });
  const json = async (file: string): Promise<FacesJson> => {
    const reply = await send(nas.root, `/img/${file}`, { query: { action: 'facedetect', format: 'json' } });
    assert.equal(reply.status, 200, reply.text);
    return JSON.parse(reply.text) as FacesJson;
  };
  const sidecar = async (file: string) => facesFile(nas.root, await sha256(path.join(nas.root, 'img', file)));

  it('stores the faces it detects under faces/<sha256>.json at the NAS root, with the detector version', async () => {
    const answer = await json('astronaut.png');
    assert.equal(answer.faces.length, 1);
    const stored = JSON.parse(await readFile(await sidecar('astronaut.png'), 'utf8')) as FacesJson & { detector: string; hash: string };
    assert.equal(stored.detector, DETECTOR_VERSION);
    assert.deepEqual(stored.faces, answer.faces);
    assert.deepEqual({ width: stored.width, height: stored.height }, { width: 512, height: 512 });
    assert.deepEqual((await readdir(path.join(nas.root, 'faces'))).filter((f) => !f.endsWith('.json')), [], 'no temp files');
  });

  it('answers format=json and the HTML page from a sidecar another instance wrote, without detecting', async () => {
    // The coffee photo has no face: a face in the answer can only come from the sidecar.
    const file = await sidecar('coffee.png');
    await writeFile(file, JSON.stringify({ hash: path.basename(file, '.json'), detector: DETECTOR_VERSION, width: 600, height: 400, faces: [FAKE], detectedAt: new Date().toISOString() }));
    assert.deepEqual((await json('coffee.png')).faces, [FAKE]);
    const page = await send(nas.root, '/img/coffee.png', { query: { action: 'facedetect' } });
    assert.equal(page.status, 200);
    assert.match(page.text, /<td>Faces<\/td><td>1<\/td>/);
    const { data, info } = await sharp(embeddedImage(page.text).data).raw().toBuffer({ resolveWithObject: true });
    const o = ((FAKE.y + 1) * info.width + FAKE.x + FAKE.width / 2) * info.channels;
    const [r, g, b] = data.subarray(o, o + 3);
    assert.ok(r > 200 && g < 90 && b < 110, `the stored box is drawn: ${r},${g},${b}`);
  });

  it('detects again when the sidecar was written by another detector version, and replaces it', async () => {
    const file = await sidecar('chelsea.png');
    await writeFile(file, JSON.stringify({ hash: path.basename(file, '.json'), detector: 'an older detector', width: 451, height: 300, faces: [FAKE], detectedAt: '2020-01-01T00:00:00Z' }));
    assert.deepEqual((await json('chelsea.png')).faces, [], 'Chelsea is a cat');
    const stored = JSON.parse(await readFile(file, 'utf8')) as { detector: string; faces: unknown[] };
    assert.equal(stored.detector, DETECTOR_VERSION);
    assert.deepEqual(stored.faces, []);
  });

  it('keeps the gallery walk out of faces/ at the NAS root', async () => {
    // Only sidecars live there; a picture put there by hand shows that the walk does not even look.
    await copyFile(path.join(PHOTOS, 'coffee.png'), path.join(nas.root, 'faces', 'stray.png'));
    const gallery = await send(nas.root, '/');
    assert.equal(gallery.status, 200);
    assert.match(gallery.text, /astronaut\.png/);
    assert.doesNotMatch(gallery.text, /stray\.png/);
  });

  it('still answers when the faces folder cannot be created (read-only NAS, full disk)', async () => {
    // Another NAS root whose faces/ is a file: every write fails (tests run as root, so chmod would not stop them).
    const blocked = path.join(nas.root, 'img', 'blocked');
    await mkdir(path.join(blocked, 'img'), { recursive: true });
    await writeFile(path.join(blocked, 'faces'), 'in the way');
    await copyFile(path.join(nas.root, 'img', 'small.jpg'), path.join(blocked, 'img', 'small.jpg'));
    for (let i = 0; i < 2; i++) {
      const reply = await send(blocked, '/img/small.jpg', { query: { action: 'facedetect', format: 'json' } });
      assert.equal(reply.status, 200, reply.text);
      assert.equal((JSON.parse(reply.text) as FacesJson).faces.length, 1);
    }
    const page = await send(blocked, '/img/small.jpg', { query: { action: 'facedetect' } });
    assert.equal(page.status, 200);
    assert.match(page.text, /<td>Faces<\/td><td>1<\/td>/);
  });
});

describe('faces sidecar reads, once per image and instance', () => {
  const nas = suiteNas(async (img) => {
    // Photos no other test in this process renders: the per-instance result cache must not answer for the faces.
    await copyFile(path.join(FACE_SET_DIR, 'astronaut-small-a.jpg'), img('small.jpg'));
    await copyFile(path.join(FACE_SET_DIR, 'camera-small.jpg'), img('camera.jpg'));
    await copyFile(path.join(PHOTOS, 'coffee.png'), img('coffee.png'));
  });
  const reads: string[] = [];
  // The real sidecar store, with its reads counted on the way to the file system.
  const counted = (): FaceStore => ({ root: nas.root, detector: DETECTOR_VERSION, logger: createLogger({}), readText: async (file) => (reads.push(file), readFile(file, 'utf8')) });
  const facedetect = (output: ImageRequest['output']): ImageRequest => ({ action: 'facedetect', values: {}, query: { action: 'facedetect' }, output });
  const render = async (file: string, output: ImageRequest['output']) => {
    const image = await readImageFile(path.join(nas.root, 'img', file), DEFAULT_LIMITS);
    assert.ok(image.ok);
    const rendered = await renderImage(image.value, facedetect(output), DEFAULT_LIMITS, { faces: counted() });
    assert.ok(rendered.ok);
    return rendered.value;
  };

  it('reads the sidecar once when a format=json facedetect misses, and once when the page does', async () => {
    reads.length = 0;
    const answer = await render('small.jpg', { kind: 'json' });
    assert.equal(answer.faces?.length, 1);
    assert.deepEqual(reads, [await sidecarOf(nas.root, 'small.jpg')], 'one read of the missing sidecar');
    reads.length = 0;
    await render('camera.jpg', { kind: 'html' });
    assert.deepEqual(reads, [await sidecarOf(nas.root, 'camera.jpg')]);
  });

  it('answers again from memory, not from the NAS: a changed sidecar is not read again', async () => {
    const file = await sidecarOf(nas.root, 'coffee.png');
    const hash = path.basename(file, '.json');
    const sidecarWith = (faces: Array<typeof FAKE>) => JSON.stringify({ hash, detector: DETECTOR_VERSION, width: 600, height: 400, faces, detectedAt: new Date().toISOString() });
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, sidecarWith([FAKE]));
    reads.length = 0;
    assert.deepEqual((await knownFaces(counted(), hash))?.faces, [FAKE]);
    await writeFile(file, sidecarWith([FAKE, FAKE]));
    for (let i = 0; i < 3; i++) assert.deepEqual((await knownFaces(counted(), hash))?.faces, [FAKE]);
    assert.deepEqual(reads, [file], 'one read for four answers');
    // The detector's own answers are remembered too: the sidecar small.jpg's detection wrote is never read.
    reads.length = 0;
    assert.equal((await knownFaces(counted(), path.basename(await sidecarOf(nas.root, 'small.jpg'), '.json')))?.faces.length, 1);
    assert.deepEqual(reads, []);
  });

  it('keeps answers apart per NAS root and detector version', async () => {
    const hash = path.basename(await sidecarOf(nas.root, 'coffee.png'), '.json');
    reads.length = 0;
    assert.equal(await knownFaces({ ...counted(), detector: 'another detector' }, hash), undefined);
    assert.equal(reads.length, 1);
  });
});

async function sidecarOf(root: string, file: string): Promise<string> {
  return facesFile(root, await sha256(path.join(root, 'img', file)));
}
