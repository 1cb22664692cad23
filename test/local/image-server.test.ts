/**
 * The image function's custom-runtime server (functions/image/server.ts), in process on a real port with a real
 * folder as the NAS and a real photo: plain HTTP straight to the core, FC's lifecycle and invoke calls, /healthz.
 * The same server through `fc-nas-images serve` is in cli.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { createImageServer, listen } from '../../functions/image/server';
import { createLogger } from '../../src/log';

const PHOTO = path.join(__dirname, '../../assets/photos/astronaut.png');
const lines: Array<Record<string, unknown>> = [];
const logger = createLogger({}, (line) => lines.push(JSON.parse(line)));
let root = '';
let base = '';
let initializeCalls = 0;
let failInitialize: Error | undefined;
let close = () => {};

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'image-server-'));
  fs.mkdirSync(path.join(root, 'img'));
  fs.copyFileSync(PHOTO, path.join(root, 'img', 'a b.png'));
  const server = createImageServer({
    root,
    logger,
    initialize: async () => {
      initializeCalls += 1;
      if (failInitialize) throw failInitialize;
    },
  });
  base = (await listen(server, 0, '127.0.0.1')).url;
  close = () => server.close();
});
after(() => {
  close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(new URL(url, base), { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

test('a plain request reaches the core directly: image page, percent-decoded path, FC request id echoed and logged', async () => {
  const page = await call('/img/a%20b.png?action=flip', { headers: { 'x-fc-request-id': 'fc-req-42' } });
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /text\/html/);
  assert.match(page.body.toString(), /a b\.png/);
  assert.equal(page.headers['x-fc-request-id'], 'fc-req-42');

  const missing = await call('/img/nope.png', { headers: { 'x-fc-request-id': 'fc-req-43' } });
  assert.equal(missing.status, 404);
  assert.ok(lines.some((l) => l.requestId === 'fc-req-43' && l.status === 404), 'the refusal is logged with the FC request id');

  const minted = await call('/img/nope.png');
  assert.match(String(minted.headers['x-fc-request-id']), /^[0-9a-f-]{36}$/, 'without FC, a request id is minted');
  assert.equal((await call('/img/%E0%A4%A.png')).status, 400);
});

test('raw bytes travel as bytes, with the length set', async () => {
  const raw = await call('/img/a%20b.png?format=png');
  assert.equal(raw.status, 200);
  assert.equal(raw.headers['content-type'], 'image/png');
  assert.equal(Number(raw.headers['content-length']), raw.body.length);
  assert.deepEqual([...raw.body.subarray(1, 4)], [...Buffer.from('PNG')]);
});

test('POST /invoke answers {"path","action",...} exactly as the HTTP route would', async () => {
  const viaRoute = await call('/img/a%20b.png?action=facedetect&format=json');
  const viaInvoke = await call('/invoke', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path: '/img/a b.png', action: 'facedetect', format: 'json' }),
  });
  assert.equal(viaInvoke.status, 200);
  assert.deepEqual(JSON.parse(viaInvoke.body.toString()), JSON.parse(viaRoute.body.toString()));
  assert.ok(JSON.parse(viaInvoke.body.toString()).faces.length >= 1);

  const rotated = await call('/invoke', { method: 'POST', body: JSON.stringify({ path: '/img/a b.png', action: 'rotate', angle: 90, format: 'png' }) });
  assert.equal(rotated.status, 200);
  assert.equal(rotated.headers['content-type'], 'image/png');

  for (const [body, reason] of [['not json', /not JSON/], ['{"action":"show"}', /path/], ['{"path":"img/a.png"}', /must start with \//]] as const) {
    const refused = await call('/invoke', { method: 'POST', headers: { accept: 'application/json' }, body });
    assert.equal(refused.status, 400, body);
    assert.match(JSON.parse(refused.body.toString()).error.message, reason);
  }
  assert.equal((await call('/invoke', { method: 'POST', body: JSON.stringify({ path: '/img/../../etc/passwd' }) })).status < 500, true);
});

test('the Initializer: POST /initialize and the x-fc-control-path header; 500 with the reason when loading fails; /pre-stop', async () => {
  failInitialize = new Error('face cascade lbpcascade_frontalface_improved.xml not found');
  const failed = await call('/initialize', { method: 'POST' });
  assert.equal(failed.status, 500);
  assert.match(failed.body.toString(), /initialization failed: face cascade .* not found/);
  assert.ok(lines.some((l) => l.msg === 'initializer failed'));

  failInitialize = undefined;
  const before = initializeCalls;
  const viaPath = await call('/initialize', { method: 'POST', headers: { 'x-fc-request-id': 'init-1' } });
  assert.equal(viaPath.status, 200);
  assert.equal(viaPath.body.toString(), 'OK');
  const viaHeader = await call('/anything', { headers: { 'x-fc-control-path': '/initialize' } });
  assert.equal(viaHeader.status, 200);
  assert.equal(initializeCalls, before + 1, 'a loaded instance is not loaded twice');
  assert.ok(lines.some((l) => l.msg === 'image function initialized' && l.requestId === 'init-1'));

  assert.equal((await call('/pre-stop', { method: 'POST' })).status, 200);
  assert.equal((await call('/x', { headers: { 'x-fc-control-path': '/pre-stop' } })).status, 200);
  // A GET of /initialize is an image path like any other (no such file here).
  assert.equal((await call('/initialize')).status, 404);
});

test('GET /healthz: version, OpenCV, NAS readability and the result store, without reading an image', async () => {
  const res = await call('/healthz');
  assert.equal(res.status, 200);
  const health = JSON.parse(res.body.toString());
  const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
  assert.equal(health.version, version);
  assert.equal(typeof health.openCvLoaded, 'boolean');
  assert.deepEqual(health.nas, { root, readable: true });
  assert.deepEqual(health.resultStore, { enabled: true, dir: path.join(root, '.results'), maxMb: 1024, writable: true });
  assert.equal(health.ok, true);
});
