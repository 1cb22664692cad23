import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { createLocalServer, listen } from '../../src/local/serve';
import { parseHttpEvent } from '../../src/fc/http-event';
import { createLogger } from '../../src/log';
import type { FcHttpReply } from '../../src/fc/types';

const quiet = createLogger({}, () => {});

/** Serves one request through the real server; the handler returns what it received so the test can inspect it. */
async function roundTrip(path: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}) {
  const seen: Array<{ event: Record<string, unknown>; context: Record<string, unknown> }> = [];
  const server = createLocalServer({
    logger: quiet,
    handler: async (event, context) => {
      seen.push({ event: JSON.parse(event.toString()), context: context as Record<string, unknown> });
      const reply: FcHttpReply = { statusCode: 201, headers: { 'content-type': 'application/octet-stream', 'x-test': 'yes' }, body: Buffer.from([1, 2, 3]).toString('base64'), isBase64Encoded: true };
      return reply;
    },
  });
  const { url } = await listen(server, 0, '127.0.0.1');
  try {
    const res = await request(new URL(path, url), { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { res, body, ...seen[0] };
  } finally {
    server.close();
  }
}

test('a request becomes exactly the FC HTTP trigger event, and the reply is written back', async () => {
  const { res, body, event, context } = await roundTrip('/img/a%20b.jpg?action=rotate&angle=90&angle=180', {
    headers: { 'X-Custom': 'one', accept: 'text/html' },
  });
  assert.equal(res.statusCode, 201);
  assert.equal(res.headers['x-test'], 'yes');
  assert.deepEqual([...body], [1, 2, 3]);
  assert.equal(event.version, 'v1');
  assert.equal(event.rawPath, '/img/a%20b.jpg');
  assert.deepEqual(event.queryParameters, { action: 'rotate', angle: '90,180' });
  const ctx = event.requestContext as { http: { method: string; path: string; sourceIp: string }; requestId: string };
  assert.equal(ctx.http.method, 'GET');
  assert.equal(ctx.http.path, '/img/a b.jpg');
  assert.equal(ctx.http.sourceIp, '127.0.0.1');
  assert.equal((event.headers as Record<string, string>)['X-Custom'], 'one');
  assert.equal(res.headers['x-fc-request-id'], ctx.requestId);
  assert.equal(context.requestId, ctx.requestId);
  // The event must be one that the FC adapter accepts.
  const parsed = parseHttpEvent(Buffer.from(JSON.stringify(event)));
  assert.ok(parsed.ok);
  assert.equal(parsed.value.path, '/img/a b.jpg');
});

test('POST bodies: forms travel as text, binary as base64', async () => {
  const form = await roundTrip('/x', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=flip' });
  assert.equal(form.event.body, 'action=flip');
  assert.equal(form.event.isBase64Encoded, false);
  const bin = await roundTrip('/x', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 255]) });
  assert.equal(bin.event.isBase64Encoded, true);
  const parsed = parseHttpEvent(bin.event);
  assert.ok(parsed.ok);
  assert.deepEqual([...parsed.value.body], [0, 255]);
});

test("FC's x-fc-request-id header names the request when present", async () => {
  const { event } = await roundTrip('/', { headers: { 'x-fc-request-id': 'fc-req-42' } });
  assert.equal((event.requestContext as { requestId: string }).requestId, 'fc-req-42');
});

test("FC's lifecycle calls run the initializer and never reach the handler", async () => {
  const calls: string[] = [];
  const server = createLocalServer({
    logger: quiet,
    handler: async () => {
      calls.push('handler');
      return { statusCode: 200, headers: {}, body: '', isBase64Encoded: false };
    },
    initializer: async (context) => {
      calls.push(`initializer ${(context as { requestId: string }).requestId}`);
    },
  });
  const { url } = await listen(server, 0, '127.0.0.1');
  try {
    const init = await request(new URL('/initialize', url), { method: 'POST', headers: { 'x-fc-control-path': '/initialize', 'x-fc-request-id': 'init-1' } });
    assert.equal(init.statusCode, 200);
    assert.equal(await init.body.text(), 'OK');
    const stop = await request(new URL('/pre-stop', url), { headers: { 'x-fc-control-path': '/pre-stop' } });
    assert.equal(stop.statusCode, 200);
    await stop.body.dump();
    // Without the header, /initialize is an ordinary path for the image function.
    await (await request(new URL('/initialize', url), { method: 'POST' })).body.dump();
    assert.deepEqual(calls, ['initializer init-1', 'handler']);
  } finally {
    server.close();
  }
});
