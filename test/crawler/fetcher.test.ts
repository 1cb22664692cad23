import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { Fetcher } from '../../src/crawler/fetcher';

describe('fetcher', () => {
  let server: http.Server;
  let origin = '';
  const hits = new Map<string, number>();
  const fetcher = new Fetcher({
    userAgent: 'test-agent',
    requestTimeoutMs: 1000,
    retries: 2,
    concurrency: 2,
    allowPrivateNetworks: ['127.0.0.1'],
    signal: new AbortController().signal,
  });

  before(async () => {
    server = http.createServer((req, res) => {
      const count = (hits.get(req.url!) ?? 0) + 1;
      hits.set(req.url!, count);
      switch (req.url) {
        case '/gzip':
          res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
          return res.end(zlib.gzipSync(`<p>${req.headers['user-agent']}</p>`));
        case '/bomb': // 64 KB on the wire, 64 MB decoded
          res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
          return res.end(zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024)));
        case '/declared-huge':
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(50 * 1024 * 1024) });
          return res.write(Buffer.alloc(1024)); // never finishes: the fetcher must not wait for it
        case '/busy-then-ok':
          res.writeHead(count < 3 ? 503 : 200, { 'content-type': 'text/plain' });
          return res.end(count < 3 ? 'busy' : 'fine');
        default:
          res.writeHead(404);
          return res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await fetcher.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('a gzip body is decoded, and the user agent is sent', async () => {
    const res = await fetcher.get(`${origin}/gzip`, { maxBytes: 1000 });
    assert.ok(res.ok);
    assert.equal(res.body.toString(), '<p>test-agent</p>');
  });

  test('the byte cap applies to the decoded body, so a compression bomb is cut short', async () => {
    const res = await fetcher.get(`${origin}/bomb`, { maxBytes: 1024 * 1024 });
    assert.equal(res.ok, false);
    if (!res.ok) assert.match(res.reason, /larger than the cap of 1048576 bytes/);
  });

  test('a Content-Length over the cap is refused before the body is read', async () => {
    const started = Date.now();
    const res = await fetcher.get(`${origin}/declared-huge`, { maxBytes: 1024 * 1024 });
    assert.equal(res.ok, false);
    if (!res.ok) assert.match(res.reason, /by Content-Length/);
    assert.ok(Date.now() - started < 900, 'did not wait for the body');
  });

  test('5xx is retried with backoff until it succeeds; 404 is not retried', async () => {
    const ok = await fetcher.get(`${origin}/busy-then-ok`, { maxBytes: 1000 });
    assert.ok(ok.ok);
    assert.equal(hits.get('/busy-then-ok'), 3);
    const missing = await fetcher.get(`${origin}/nothing-here`, { maxBytes: 1000 });
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.equal(missing.status, 404);
    assert.equal(hits.get('/nothing-here'), 1);
  });
});
