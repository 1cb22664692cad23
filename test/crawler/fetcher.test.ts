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
  /** The conditional headers each request to /versioned carried. */
  const conditions: string[] = [];
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
        case '/versioned': {
          const etag = '"v2"';
          const lastModified = 'Wed, 21 Oct 2026 07:28:00 GMT';
          conditions.push(`${req.headers['if-none-match'] ?? '-'} ${req.headers['if-modified-since'] ?? '-'}`);
          const current = req.headers['if-none-match'] === etag || (!req.headers['if-none-match'] && req.headers['if-modified-since'] === lastModified);
          res.writeHead(current ? 304 : 200, { 'content-type': 'text/html', etag, 'last-modified': lastModified });
          return res.end(current ? undefined : '<p>version 2</p>');
        }
        case '/retry-after-an-hour':
          res.writeHead(503, { 'retry-after': '3600' });
          return res.end('down for maintenance');
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

  test('conditional GET: validators are reported, sent back when given, and a 304 is NotModified with no body', async () => {
    const first = await fetcher.get(`${origin}/versioned`, { maxBytes: 1000 });
    assert.ok(first.ok);
    assert.deepEqual(first.validators, { etag: '"v2"', lastModified: 'Wed, 21 Oct 2026 07:28:00 GMT' });
    const same = await fetcher.revalidate(`${origin}/versioned`, first.validators, { maxBytes: 1000 });
    assert.ok(same.ok && same.notModified);
    assert.equal(same.status, 304);
    assert.deepEqual(same.validators, first.validators);
    const byDate = await fetcher.revalidate(`${origin}/versioned`, { lastModified: first.validators.lastModified }, { maxBytes: 1000 });
    assert.ok(byDate.ok && byDate.notModified);
    const stale = await fetcher.revalidate(`${origin}/versioned`, { etag: '"v1"' }, { maxBytes: 1000 });
    assert.ok(stale.ok && !stale.notModified);
    assert.equal(stale.body.toString(), '<p>version 2</p>');
    assert.equal(stale.validators.etag, '"v2"');
    assert.deepEqual(conditions, ['- -', '"v2" Wed, 21 Oct 2026 07:28:00 GMT', '- Wed, 21 Oct 2026 07:28:00 GMT', '"v1" -']);
  });

  test('a Retry-After past the stop time is not waited for: transient outcome with retryAfterMs, and the host is left alone', async () => {
    const stopping = new Fetcher({
      userAgent: 'test-agent',
      requestTimeoutMs: 1000,
      retries: 3,
      concurrency: 2,
      allowPrivateNetworks: ['127.0.0.1'],
      signal: new AbortController().signal,
      stopRequestsAt: Date.now() + 30_000,
    });
    try {
      const refused = await stopping.get(`${origin}/retry-after-an-hour`, { maxBytes: 1000 });
      assert.equal(refused.ok, false);
      if (!refused.ok) {
        assert.equal(refused.transient, true);
        assert.ok(refused.retryAfterMs! > 3_500_000 && refused.retryAfterMs! <= 3_600_000, String(refused.retryAfterMs));
        assert.match(refused.reason, /^HTTP 503, then not requested: its host is not free again for 36\d\d s/);
        assert.equal(refused.status, 503);
      }
      assert.equal(hits.get('/retry-after-an-hour'), 1, 'the retry is not made');
      const deferred = await stopping.get(`${origin}/gzip`, { maxBytes: 1000 });
      assert.equal(deferred.ok, false);
      if (!deferred.ok) assert.equal(deferred.deferred, true);
      assert.equal(hits.get('/gzip'), 1, 'only the earlier test asked for it');
      // A permanent failure is not transient.
      const missing = await stopping.get(`${origin.replace('127.0.0.1', 'localhost')}/nothing`, { maxBytes: 1000 });
      assert.equal(!missing.ok && missing.transient, undefined);
    } finally {
      await stopping.close();
    }
  });
});
