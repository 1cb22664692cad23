import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { facesFile, keepFaces, readFaces, writeFaces, type FaceRecord, type FaceStore } from '../../src/collection/faces-store';
import { createLogger } from '../../src/log';

const HASH = 'ab'.repeat(32);
const RECORD: FaceRecord = { width: 640, height: 480, faces: [{ x: 10, y: 20, width: 30, height: 30 }] };

describe('faces sidecar store', () => {
  let root: string;
  let logs: string[];
  const store = (detector = 'v1', at = root): FaceStore => ({ root: at, detector, logger: createLogger({}, (line) => logs.push(line)) });
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'faces-store-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('keeps faces at <root>/faces/<sha256>.json, written whole, with the detector version inside', async () => {
    logs = [];
    assert.equal(await readFaces(store(), HASH), undefined);
    await writeFaces(store(), HASH, RECORD);
    assert.equal(facesFile(root, HASH), path.join(root, 'faces', `${HASH}.json`));
    const stored = JSON.parse(await readFile(facesFile(root, HASH), 'utf8')) as Record<string, unknown>;
    assert.equal(stored.detector, 'v1');
    assert.equal(stored.hash, HASH);
    assert.deepEqual(await readFaces(store(), HASH), RECORD);
    assert.deepEqual(await readdir(path.join(root, 'faces')), [`${HASH}.json`], 'no temp file is left behind');
    assert.deepEqual(logs, [], 'a miss for a missing sidecar is not a warning');
  });

  it('answers only for its own detector version, and a new version\'s answer replaces the old one', async () => {
    assert.deepEqual(await readFaces(store('v1'), HASH), RECORD);
    assert.equal(await readFaces(store('v2'), HASH), undefined, 'another version\'s sidecar is a miss');
    const redone = { ...RECORD, faces: [] };
    assert.equal(await keepFaces(store('v2'), HASH, redone), true);
    assert.deepEqual(await readFaces(store('v2'), HASH), redone);
    assert.equal(await readFaces(store('v1'), HASH), undefined, 'the new version replaced the old answer');
  });

  it('reads a sidecar through the store\'s reader, once per call', async () => {
    const reads: string[] = [];
    const counted: FaceStore = { ...store('v2'), readText: async (file) => (reads.push(file), readFile(file, 'utf8')) };
    await readFaces(counted, HASH);
    assert.deepEqual(reads, [facesFile(root, HASH)]);
  });

  it('treats a corrupt or foreign sidecar as a miss, logs it, and replaces it', async () => {
    const other = 'cd'.repeat(32);
    for (const content of ['{"hash":', JSON.stringify({ ...RECORD, hash: HASH, detector: 'v1', detectedAt: 'x' }), JSON.stringify({ hash: other, detector: 'v1', width: -1 })]) {
      logs = [];
      await writeFile(facesFile(root, other), content);
      assert.equal(await readFaces(store(), other), undefined, content);
      assert.equal(logs.length, 1, content);
      assert.match(JSON.parse(logs[0]).msg, /faces sidecar (is not JSON|malformed)/);
    }
    assert.equal(await keepFaces(store(), other, RECORD), true);
    assert.deepEqual(await readFaces(store(), other), RECORD);
  });

  it('reports a sidecar that cannot be written, and logs why, without throwing', async () => {
    // A file where the faces folder should be: mkdir fails, as on a read-only NAS (tests run as root, so chmod would not stop them).
    const blocked = await mkdtemp(path.join(os.tmpdir(), 'faces-store-ro-'));
    try {
      await writeFile(path.join(blocked, 'faces'), 'not a folder');
      logs = [];
      assert.equal(await keepFaces(store('v1', blocked), HASH, RECORD), false);
      assert.equal(logs.length, 1);
      const line = JSON.parse(logs[0]) as { level: string; msg: string; code: string; file: string };
      assert.equal(line.level, 'warn');
      assert.match(line.msg, /not written/);
      assert.ok(['EEXIST', 'ENOTDIR'].includes(line.code), line.code);
      assert.equal(line.file, path.join(blocked, 'faces', `${HASH}.json`));
    } finally {
      await rm(blocked, { recursive: true, force: true });
    }
  });

  it('leaves no partial temp file when the write itself fails', async () => {
    // The sidecar's name taken by a folder: the temp file is written, the rename fails, and the temp file goes.
    const taken = 'ef'.repeat(32);
    await mkdir(facesFile(root, taken));
    logs = [];
    assert.equal(await keepFaces(store(), taken, RECORD), false);
    assert.deepEqual((await readdir(path.join(root, 'faces'))).filter((f) => f.endsWith('.tmp')), []);
  });

  it('refuses a key that is not a SHA-256 digest, so no path can leave the store', () => {
    assert.throws(() => facesFile(root, '../../etc/passwd'), /not a SHA-256/);
  });
});
