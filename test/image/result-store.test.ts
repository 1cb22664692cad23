import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ResultStore } from '../../src/collection/result-store';
import { handleImageRequest } from '../../src/image/handler';
import { createLogger } from '../../src/log';
import { suiteNas, tempNas } from './nas-fixture';

const run = promisify(execFile);
const REPO = path.join(__dirname, '../..');

async function inFreshProcess(root: string, requestPath: string, query: string): Promise<{ status: number; cache: string }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(__dirname, 'support/one-request.ts'), root, requestPath, query], { cwd: REPO });
  return JSON.parse(stdout) as { status: number; cache: string };
}

/** A photo-like image (noise), so each render does real work; `seed` makes distinct content. */
async function noisePhoto(seed: number, width = 600, height = 400): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < pixels.length; i++) pixels[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg().toBuffer();
}

describe('the NAS result store', () => {
  const nas = suiteNas(async (img) => {
    for (let i = 0; i < 4; i++) await writeFile(img(`p${i}.jpg`), await noisePhoto(i + 1));
  });

  it('a fresh process answers from the store what another process rendered', async () => {
    const first = await inFreshProcess(nas.root, '/img/p0.jpg', 'action=rotate&angle=33');
    assert.deepEqual([first.status, first.cache], [200, 'miss']);
    const second = await inFreshProcess(nas.root, '/img/p0.jpg', 'action=rotate&angle=33');
    assert.deepEqual([second.status, second.cache], [200, 'store']);
    const other = await inFreshProcess(nas.root, '/img/p0.jpg', 'action=rotate&angle=34');
    assert.equal(other.cache, 'miss', 'a different angle is a different entry');
  });

  it('three processes started together render one result once (claim file), the others read it', async () => {
    const answers = await Promise.all([0, 1, 2].map(() => inFreshProcess(nas.root, '/img/p1.jpg', 'action=blur&sigma=4')));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    assert.deepEqual(answers.map((a) => a.cache).sort(), ['miss', 'store', 'store']);
  });

  it('identical requests in flight in one instance are rendered once', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const request = { method: 'GET', path: '/img/p2.jpg', rawPath: '/img/p2.jpg', query: { action: 'rotate', angle: '21' }, headers: {}, body: Buffer.alloc(0), requestId: 't' };
    const replies = await Promise.all(Array.from({ length: 6 }, () => handleImageRequest(request, { root: nas.root, logger })));
    assert.ok(replies.every((r) => r.status === 200));
    const caches = lines.filter((l) => l.msg === 'image request').map((l) => l.cache);
    assert.equal(caches.filter((c) => c === 'miss').length, 1, caches.join(','));
  });

  it('logs one line per request with the step timings and the cache it came from', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ requestId: 'r-1' }, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const request = { method: 'GET', path: '/img/p3.jpg', rawPath: '/img/p3.jpg', query: { action: 'grayscale', raw: '1' }, headers: {}, body: Buffer.alloc(0), requestId: 'r-1' };
    const reply = await handleImageRequest(request, { root: nas.root, logger });
    const [line] = lines.filter((l) => l.msg === 'image request');
    assert.equal(line.requestId, 'r-1');
    assert.equal(line.path, '/img/p3.jpg');
    assert.equal(line.action, 'grayscale');
    assert.equal(line.status, 200);
    assert.equal(line.bytesOut, (reply.body as Buffer).length);
    for (const field of ['durationMs', 'readMs', 'decodeMs', 'transformMs', 'encodeMs']) assert.equal(typeof line[field], 'number', field);
    assert.ok(['miss', 'store'].includes(line.cache as string));
    await handleImageRequest(request, { root: nas.root, logger });
    assert.equal(lines.filter((l) => l.msg === 'image request')[1].cache, 'memory');
    await handleImageRequest({ ...request, path: '/img/none.jpg' }, { root: nas.root, logger });
    assert.deepEqual([lines.at(-1)!.status, lines.at(-1)!.cache], [404, 'none']);
  });

  it('a read-only store costs only the cache: the answer is still served, and the failure is logged', async (t) => {
    if (process.getuid?.() === 0) t.diagnostic('running as root: chmod does not stop writes, so the store is made a file instead');
    const { root, cleanup } = await tempNas();
    try {
      await mkdir(path.join(root, 'img'));
      await writeFile(path.join(root, 'img', 'x.jpg'), await noisePhoto(9));
      // A file where the store's folder should be: every write fails, as on a read-only or full NAS.
      await writeFile(path.join(root, '.results'), 'not a folder');
      await chmod(path.join(root, '.results'), 0o444);
      const lines: Array<Record<string, unknown>> = [];
      const logger = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
      const reply = await handleImageRequest({ method: 'GET', path: '/img/x.jpg', rawPath: '/img/x.jpg', query: { action: 'flip', raw: '1' }, headers: {}, body: Buffer.alloc(0), requestId: 't' }, { root, logger });
      assert.equal(reply.status, 200);
      assert.ok(lines.some((l) => l.msg === 'result store unavailable; answering without it'));
    } finally {
      await cleanup();
    }
  });

  it('never returns a half-written or truncated entry, and evicts the least recently used over the cap, with several instances at once', async () => {
    const { root, cleanup } = await tempNas();
    try {
      // Writes stamp real mtimes; the clock only moves ahead of them, as time passes between uses.
      let clock = Date.now();
      const now = () => clock;
      const key = (i: number) => i.toString(16).padStart(64, '0');
      const entry = (i: number) => ({ meta: { i }, data: Buffer.alloc(10_000, i) });
      const stores = [0, 1, 2].map(() => new ResultStore(root, { capBytes: 100_000, now }));
      await stores[0].put(key(1), entry(1));
      // A crash left a short entry under a real key: it is a miss, not a result.
      const full = await readdir(path.join(root, '.results', '00'));
      const shortFile = path.join(root, '.results', '00', key(2));
      await writeFile(shortFile, (await readFile(path.join(root, '.results', '00', full[0]))).subarray(0, 5000));
      assert.equal(await stores[1].get(key(2)), undefined);
      assert.deepEqual((await stores[1].get(key(1)))?.meta, { i: 1 });
      // 30 entries of 10 kB from three instances at once, the clock moving: the store stays near its cap.
      await Promise.all(
        Array.from({ length: 30 }, (_, n) => {
          clock += 1000;
          return stores[n % 3].put(key(100 + n), entry(n));
        }),
      );
      await stores[0].evict();
      const byAge = (await stores[0].list()).sort((a, b) => a.mtimeMs - b.mtimeMs).map((e) => path.basename(e.file));
      assert.ok(byAge.length >= 3 && byAge.length < 30, `${byAge.length} entries after eviction`);
      // The oldest entry is used again; the second oldest is not.
      clock += 120_000;
      assert.ok(await stores[1].get(byAge[0]));
      await stores[2].put(key(500), entry(5));
      await stores[2].put(key(501), entry(6));
      await stores[2].evict();
      const left = await stores[2].list();
      const total = left.reduce((sum, e) => sum + e.size, 0);
      assert.ok(total <= 100_000, `store holds ${total} bytes over a 100000 cap`);
      assert.ok(await stores[0].get(byAge[0]), 'the recently used entry was kept');
      assert.equal(await stores[0].get(byAge[1]), undefined, 'the least recently used entry was evicted');
      assert.equal(await stores[0].get(key(1)), undefined, 'the first entry was evicted long ago');
      assert.deepEqual(await readdir(path.join(root, '.results', 'tmp')), [], 'no temp file left behind');
    } finally {
      await cleanup();
    }
  });

  it('a claim held by another instance makes the caller wait for its entry; a stale claim is taken over', async () => {
    const { root, cleanup } = await tempNas();
    try {
      let clock = Date.now();
      const a = new ResultStore(root, { capBytes: 1e6, now: () => clock });
      const b = new ResultStore(root, { capBytes: 1e6, now: () => clock });
      const k = 'ab'.repeat(32);
      const release = await a.claim(k);
      assert.ok(release);
      assert.equal(await b.claim(k), undefined);
      const waited = b.waitForClaimed(k, 5);
      await a.put(k, { meta: { done: true }, data: Buffer.from('x') });
      await release();
      assert.deepEqual((await waited)?.meta, { done: true });
      assert.ok(await a.claim('cd'.repeat(32)));
      clock += 31_000;
      assert.ok(await b.claim('cd'.repeat(32)), 'a claim older than its TTL is taken over');
    } finally {
      await cleanup();
    }
  });
});
