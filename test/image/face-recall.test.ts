/**
 * Face recall on the labelled set of bench/faces/set (npm run bench:faces has the full table): the service's
 * pipeline must find at least what the original design's LBP 1.03/5 finds, on the whole set and on the small faces,
 * with fewer false positives; and the small real faces of small photos, through the real handler.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { cascadeDetector, ORIGINAL } from '../../bench/faces/cascade-detector';
import { emptyScore, FACE_SET_DIR, faceSet, readLabelled, score, SMALL_FACE } from '../../bench/faces/face-set';
import { detectFaces } from '../../src/image/faces';
import { DEFAULT_LIMITS } from '../../src/image/limits';
import { decodeImage } from '../../src/image/source';
import { send, suiteNas } from './nas-fixture';

const set = faceSet();

describe('face recall on the labelled set', () => {
  it('has the size the issue asks for: 40+ faces, 15+ of them 20-48 px, 20+ face-free images', () => {
    const faces = set.flatMap((i) => i.faces);
    assert.ok(faces.length >= 40, `${faces.length} faces`);
    assert.ok(faces.filter((f) => f.width >= 20 && f.width <= SMALL_FACE).length >= 15);
    assert.ok(set.filter((i) => i.faces.length === 0).length >= 20);
  });

  it('finds at least as many faces as the original, on the whole set and on the small faces, with at most 2 false positives', async () => {
    const original = cascadeDetector(ORIGINAL);
    const ours = emptyScore();
    const theirs = emptyScore();
    for (const image of set) {
      const decoded = await decodeImage(await readLabelled(image), DEFAULT_LIMITS);
      assert.ok(decoded.ok, image.file);
      score(image, await detectFaces(decoded.value), ours);
      score(image, await original(decoded.value), theirs);
    }
    assert.ok(ours.smallFaces >= 15);
    assert.ok(ours.found >= theirs.found, `faces found: ours ${ours.found}, the original ${theirs.found} of ${ours.faces}`);
    assert.ok(ours.smallFound >= theirs.smallFound, `small faces found: ours ${ours.smallFound}, the original ${theirs.smallFound} of ${ours.smallFaces}`);
    assert.ok(ours.falsePositives < theirs.falsePositives, `false positives: ours ${ours.falsePositives}, the original ${theirs.falsePositives}`);
    assert.ok(ours.falsePositives <= 2, `false positives: ${ours.falsePositives} on ${set.length} images`);
  });

  describe('faces under 40 px in real photos under 0.5 MP, through the handler', () => {
    const cases = set.filter((i) => !i.composed && i.width * i.height < 500_000 && i.faces.some((f) => f.width < 40 && !f.turned));
    const nas = suiteNas(async (img) => {
      for (const image of cases) await copyFile(path.join(FACE_SET_DIR, image.file), img(image.file));
    });
    it('covers at least three such photos', () => assert.ok(cases.length >= 3, cases.map((c) => c.file).join(', ')));
    for (const image of cases) {
      it(`finds the ${image.faces[0].width} px face in ${image.file} (${image.width}x${image.height})`, async () => {
        const reply = await send(nas.root, `/img/${image.file}`, { query: { action: 'facedetect', format: 'json' } });
        assert.equal(reply.status, 200, reply.text);
        const found = score(image, (JSON.parse(reply.text) as { faces: [] }).faces);
        assert.equal(found.found, found.faces, reply.text);
        assert.equal(found.falsePositives, 0, reply.text);
      });
    }
  });
});
