/**
 * Signed URLs through the real custom-runtime server and the real core, on a real photo in a temp NAS: every
 * refusal, key rotation, and that the links the pages emit are signed and work.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { createImageServer, listen } from '../../functions/image/server';
import { createLogger } from '../../src/log';
import { canonicalRequest, checkSignature, signParams } from '../../src/image/url-signature';

const SECRET = 'current-secret';
const OLD = 'previous-secret';
let root = '';
let base = '';
let close = () => {};

before(async () => {
  process.env.IMAGE_URL_SECRET = SECRET;
  delete process.env.IMAGE_URL_SECRET_PREVIOUS;
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'signed-urls-'));
  fs.mkdirSync(path.join(root, 'img'));
  fs.copyFileSync(path.join(__dirname, '../../assets/photos/astronaut.png'), path.join(root, 'img', 'a b.png'));
  const server = createImageServer({ root, logger: createLogger({}, () => {}), initialize: async () => {} });
  base = (await listen(server, 0, '127.0.0.1')).url;
  close = () => server.close();
});
after(() => {
  close();
  fs.rmSync(root, { recursive: true, force: true });
  delete process.env.IMAGE_URL_SECRET;
});

function signedUrl(pathname: string, params: Record<string, string>, secret = SECRET, ttlSeconds?: number, now?: number): string {
  const query = new URLSearchParams(signParams(pathname, params, secret, { ttlSeconds, now })).toString();
  return `${pathname.split('/').map(encodeURIComponent).join('/')}?${query}`;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(new URL(url, base), { headers });
  return { status: res.statusCode, type: String(res.headers['content-type']), body: await res.body.text() };
}

test('the canonical text sorts the query and leaves out sig', () => {
  assert.equal(canonicalRequest('/img/a b.png', { sig: 'x', b: '2', a: '1 2' }), '/img/a b.png\na=1%202&b=2');
});

test('a correctly signed request passes; the signature covers the decoded path and every parameter', async () => {
  const ok = await get(signedUrl('/img/a b.png', { action: 'facedetect', format: 'json' }));
  assert.equal(ok.status, 200, ok.body);
  assert.ok(JSON.parse(ok.body).faces.length >= 1);
});

test('unsigned: 403 with the reason, as HTML for browsers and JSON when asked', async () => {
  const html = await get('/img/a%20b.png?action=flip');
  assert.equal(html.status, 403);
  assert.match(html.type, /text\/html/);
  assert.match(html.body, /requires signed URLs: the request has no sig parameter/);
  const json = await get('/img/a%20b.png?action=flip&format=png', { accept: 'application/json' });
  assert.equal(json.status, 403);
  assert.deepEqual(JSON.parse(json.body), { error: { status: 403, message: 'this service requires signed URLs: the request has no sig parameter' } });
  assert.equal((await get('/')).status, 403, 'the gallery is signed too');
});

test('tampered: another angle, another path, an added parameter or a bad sig is refused', async () => {
  const url = new URL(signedUrl('/img/a b.png', { action: 'rotate', angle: '90' }), base);
  const variants = [
    url.href.replace('angle=90', 'angle=180'),
    url.href.replace('a%20b.png', 'other.png'),
    `${url.href}&format=png`,
    url.href.replace(/sig=[^&]+/, 'sig=AAAA'),
  ];
  for (const variant of variants) {
    const res = await get(variant, { accept: 'application/json' });
    assert.equal(res.status, 403, variant);
    assert.match(JSON.parse(res.body).error.message, /does not match/);
  }
});

test('exp: a live URL passes, an expired one gets 403 naming the time, a malformed exp is refused', async () => {
  assert.equal((await get(signedUrl('/img/a b.png', { action: 'flip' }, SECRET, 3600))).status, 200);
  const expired = await get(signedUrl('/img/a b.png', { action: 'flip' }, SECRET, 60, Date.now() - 3600_000), { accept: 'application/json' });
  assert.equal(expired.status, 403);
  assert.match(JSON.parse(expired.body).error.message, /expired at \d{4}-\d\d-\d\dT/);
  const malformed = await get(signedUrl('/img/a b.png', { action: 'flip', exp: 'tomorrow' }), { accept: 'application/json' });
  assert.equal(malformed.status, 403);
  assert.match(JSON.parse(malformed.body).error.message, /epoch seconds/);
});

test('rotation: the previous secret is accepted only while IMAGE_URL_SECRET_PREVIOUS names it', async () => {
  const old = signedUrl('/img/a b.png', { action: 'flop' }, OLD);
  assert.equal((await get(old)).status, 403);
  process.env.IMAGE_URL_SECRET_PREVIOUS = OLD;
  try {
    assert.equal((await get(old)).status, 200);
    assert.equal((await get(signedUrl('/img/a b.png', { action: 'flop' }, 'some-other-secret'))).status, 403);
  } finally {
    delete process.env.IMAGE_URL_SECRET_PREVIOUS;
  }
});

test('POST parameters are not covered by the signature, so a signed URL with a POST body is refused', async () => {
  const res = await request(new URL(signedUrl('/img/a b.png', { action: 'flip' }), base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'action=rotate&angle=45',
  });
  assert.equal(res.statusCode, 403);
  assert.match(await res.body.text(), /not in a POST body/);
});

test('a browser notices nothing: the gallery and image pages emit signed links that work', async () => {
  const gallery = await get(signedUrl('/', {}));
  assert.equal(gallery.status, 200, gallery.body);
  const links = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replaceAll('&amp;', '&')).filter((h) => h.startsWith('/'));
  const tile = links(gallery.body).find((h) => h.startsWith('/img/'));
  assert.ok(tile, gallery.body);
  assert.match(tile, /[?&]sig=/);
  const page = await get(tile);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.body, /<form/, 'the free-angle form cannot be signed in advance, so it is left out');
  const pageLinks = links(page.body);
  assert.ok(pageLinks.length >= 5, pageLinks.join(' '));
  for (const href of pageLinks) assert.equal((await get(href)).status, 200, href);
});

test('checkSignature compares without a length error on a short or long sig', () => {
  const req = (sig: string) => ({ method: 'GET', path: '/x', query: { sig }, body: Buffer.alloc(0) });
  assert.equal(checkSignature(req('a'), { current: SECRET })?.status, 403);
  assert.equal(checkSignature(req('a'.repeat(500)), { current: SECRET })?.status, 403);
  assert.equal(checkSignature(req('a'), undefined), undefined, 'off without a secret');
});

test('fc-nas-images sign prints a URL the service accepts, with --ttl as exp', async () => {
  const { main } = await import('../../src/local/cli');
  const out: string[] = [];
  const io = { stdout: (l: string) => out.push(l), stderr: (l: string) => out.push(`ERR ${l}`) };
  assert.equal(await main(['sign', '/img/a b.png?action=rotate&angle=90', '--ttl', '1h'], io), 0, out.join('\n'));
  const url = new URL(out[0], base);
  const exp = Number(url.searchParams.get('exp'));
  assert.ok(Math.abs(exp - (Date.now() / 1000 + 3600)) < 60, String(exp));
  assert.equal((await get(out[0])).status, 200);
  assert.equal(await main(['sign', 'http://images.example.com/?page=2'], io), 0);
  assert.match(out[1], /^http:\/\/images\.example\.com\/\?page=2&sig=[\w-]{43}$/);
  delete process.env.IMAGE_URL_SECRET;
  try {
    assert.equal(await main(['sign', '/'], io), 2);
    assert.match(out[2], /needs the secret in env IMAGE_URL_SECRET/);
  } finally {
    process.env.IMAGE_URL_SECRET = SECRET;
  }
});
