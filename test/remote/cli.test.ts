/**
 * `fc-nas-images remote` through the real @alicloud/fc2 SDK, pointed (FC_ENDPOINT -> its `endpoint` option) at
 * a local HTTP server that plays the FC 3.0 API. Each request's method, path, headers and signature are checked;
 * the signature is recomputed here from FC's documented algorithm, not with the SDK's signer.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runRemote } from '../../src/remote/cli';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Reply = { status?: number; json?: unknown; text?: string; headers?: Record<string, string> };
type Route = (req: Seen) => Reply | undefined;

const KEY_ID = 'LTAItestkey';
const SECRET = 'test-secret-value';
const ACCOUNT = '1234567890123456';
const PAYLOAD = { url: 'https://seed.example/', rootDir: '/mnt/crawler', numberOfPages: 50, cutoffSize: 10, debug: false };
const TRIGGER = {
  triggerName: 'crawl-every-5-minutes',
  triggerType: 'timer',
  triggerConfig: JSON.stringify({ cronExpression: '@every 5m', enable: true, payload: JSON.stringify(PAYLOAD) }),
};

let server: http.Server;
let endpoint: string;
let seen: Seen[] = [];
let routes: Route[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(request);
      const reply = routes.map((r) => r(request)).find((r) => r !== undefined) ?? { status: 404, json: { ErrorCode: 'NotFound', ErrorMessage: request.url } };
      const body = reply.text ?? JSON.stringify(reply.json);
      res.writeHead(reply.status ?? 200, {
        'content-type': reply.text !== undefined ? 'application/octet-stream' : 'application/json',
        'x-fc-request-id': 'req-1',
        ...reply.headers,
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = [];
  routes = [];
});

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    ALIBABA_CLOUD_ACCESS_KEY_ID: KEY_ID,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
    ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT,
    ALIBABA_CLOUD_REGION_ID: 'cn-shanghai',
    FC_ENDPOINT: endpoint,
    ...extra,
  };
}

async function remote(argv: string[], environment = env()) {
  const out: string[] = [];
  const errLines: string[] = [];
  const code = await runRemote(argv, { stdout: (s) => out.push(s), stderr: (s) => errLines.push(s), env: environment });
  return { code, stdout: out.join('\n'), stderr: errLines.join('\n') };
}

/** FC's signature, per its "Signature authentication" doc: HMAC-SHA256 over method, MD5, type, date, x-fc-* headers, path. */
function expectedAuthorization(req: Seen, secret = SECRET, keyId = KEY_ID): string {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(',') : (v ?? '');
  };
  const fcHeaders = Object.keys(req.headers)
    .filter((k) => k.startsWith('x-fc-'))
    .sort()
    .map((k) => `${k}:${header(k)}\n`)
    .join('');
  const resource = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const stringToSign = `${req.method}\n${header('content-md5')}\n${header('content-type')}\n${header('date')}\n${fcHeaders}${resource}`;
  return `FC ${keyId}:${crypto.createHmac('sha256', secret).update(stringToSign, 'utf8').digest('base64')}`;
}

function assertSigned(req: Seen, secret = SECRET, keyId = KEY_ID) {
  assert.equal(req.headers.authorization, expectedAuthorization(req, secret, keyId), `signature of ${req.method} ${req.url}`);
  assert.equal(req.headers['x-fc-account-id'], ACCOUNT);
  assert.ok(Math.abs(Date.parse(String(req.headers.date)) - Date.now()) < 60_000, 'Date header is now (FC allows 15 min skew)');
  if (req.body.length > 0) {
    assert.equal(req.headers['content-md5'], Buffer.from(crypto.createHash('md5').update(req.body).digest('hex')).toString('base64'));
  }
}

const triggerRoute: Route = (r) =>
  r.method === 'GET' && r.url === '/2023-03-30/functions/fc-nas-images-crawler/triggers/crawl-every-5-minutes' ? { json: TRIGGER } : undefined;

test('invoke-crawler sends the deployed timer payload, merged with --payload, as a signed sync 2023-03-30 invocation', async () => {
  const crawlResult = { totalCrawlCount: 3, totalImageDownloaded: 7, totalImageSize: 12345, errorStack: [] };
  routes = [triggerRoute, (r) => (r.method === 'POST' ? { text: JSON.stringify(crawlResult) } : undefined)];

  const { code, stdout, stderr } = await remote(['invoke-crawler', '--payload', '{"numberOfPages":3}']);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout.split('\n').at(-1)!), crawlResult);

  assert.equal(seen.length, 2);
  const [get, post] = seen;
  assertSigned(get);
  assert.equal(post.method, 'POST');
  assert.equal(post.url, '/2023-03-30/functions/fc-nas-images-crawler/invocations');
  assert.equal(post.headers['x-fc-invocation-type'], 'Sync');
  assert.equal(post.headers['content-type'], 'application/octet-stream');
  assertSigned(post);
  const event = JSON.parse(post.body.toString('utf8'));
  assert.equal(typeof event.payload, 'string', 'timer events carry the payload as a JSON string');
  assert.deepEqual(JSON.parse(event.payload), { ...PAYLOAD, numberOfPages: 3 });
  assert.ok(!Number.isNaN(Date.parse(event.triggerTime)));
});

test('invoke-crawler exits 1 when the crawler threw (FC answers 200 with x-fc-error-type) or reported a failed crawl', async () => {
  routes = [
    triggerRoute,
    (r) => (r.method === 'POST' ? { text: '{"errorMessage":"boom","errorType":"Error"}', headers: { 'x-fc-error-type': 'UnhandledInvocationError' } } : undefined),
  ];
  const threw = await remote(['invoke-crawler']);
  assert.equal(threw.code, 1);
  assert.equal(threw.stdout, '');
  assert.match(threw.stderr, /UnhandledInvocationError/);
  assert.match(threw.stderr, /boom/);

  routes = [triggerRoute, (r) => (r.method === 'POST' ? { text: '{"totalCrawlCount":0,"error":"invalid crawler payload: url: must be an absolute http(s) URL"}' } : undefined)];
  const failed = await remote(['invoke-crawler']);
  assert.equal(failed.code, 1);
  assert.equal(JSON.parse(failed.stdout).error, 'invalid crawler payload: url: must be an absolute http(s) URL');
  assert.match(failed.stderr, /the crawl failed/);
});

test('status prints the function info, the timer and the last timer run with its parsed crawl result', async () => {
  const task = { taskId: 't-1', status: 'Succeeded', startedTime: 1700000000000, endTime: 1700000060000, durationMs: 60000, returnPayload: '{"totalCrawlCount":9}' };
  routes = [
    triggerRoute,
    (r) => (r.url === '/2023-03-30/functions/fc-nas-images-crawler' ? { json: { functionName: 'fc-nas-images-crawler', runtime: 'nodejs20' } } : undefined),
    (r) => (r.url.startsWith('/2023-03-30/functions/fc-nas-images-crawler/async-tasks?') ? { json: { tasks: [task] } } : undefined),
  ];
  const { code, stdout, stderr } = await remote(['status']);
  assert.equal(code, 0, stderr);
  const out = JSON.parse(stdout);
  assert.equal(out.function.runtime, 'nodejs20');
  assert.deepEqual(out.timer, { triggerName: 'crawl-every-5-minutes', cronExpression: '@every 5m', enable: true, payload: PAYLOAD });
  assert.equal(out.lastCrawl.status, 'Succeeded');
  assert.equal(out.lastCrawl.startedTime, '2023-11-14T22:13:20.000Z');
  assert.deepEqual(out.lastCrawl.result, { totalCrawlCount: 9 });

  assert.equal(seen.length, 3);
  for (const req of seen) {
    assert.equal(req.method, 'GET');
    assertSigned(req);
  }
  const list = new URL(seen.find((r) => r.url.includes('async-tasks'))!.url, 'http://x');
  assert.equal(list.searchParams.get('limit'), '1');
  assert.equal(list.searchParams.get('sortOrderByTime'), 'desc');
});

test('status says when no timer run is recorded yet', async () => {
  routes = [triggerRoute, (r) => (r.url.includes('async-tasks') ? { json: { tasks: [] } } : { json: { functionName: 'x' } })];
  const { code, stdout } = await remote(['status']);
  assert.equal(code, 0);
  assert.equal(JSON.parse(stdout).lastCrawl, null);
});

test('set-seed rewrites only the payload url of the timer config with a signed JSON PUT', async () => {
  routes = [triggerRoute, (r) => (r.method === 'PUT' ? { json: TRIGGER } : undefined)];
  const { code, stdout, stderr } = await remote(['set-seed', 'https://new.example/start']);
  assert.equal(code, 0, stderr);
  assert.equal(JSON.parse(stdout).payload.url, 'https://new.example/start');

  const put = seen.find((r) => r.method === 'PUT')!;
  assert.equal(put.url, '/2023-03-30/functions/fc-nas-images-crawler/triggers/crawl-every-5-minutes');
  assert.equal(put.headers['content-type'], 'application/json');
  assertSigned(put);
  const body = JSON.parse(put.body.toString('utf8'));
  const config = JSON.parse(body.triggerConfig);
  assert.equal(config.cronExpression, '@every 5m');
  assert.equal(config.enable, true);
  assert.deepEqual(JSON.parse(config.payload), { ...PAYLOAD, url: 'https://new.example/start' });
});

test('an STS key is sent with its security token, which is signed as an x-fc- header', async () => {
  routes = [triggerRoute, (r) => (r.method === 'PUT' ? { json: TRIGGER } : undefined)];
  const sts = env({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.tempkey', ALIBABA_CLOUD_SECURITY_TOKEN: 'token-123' });
  const { code, stderr } = await remote(['set-seed', 'https://new.example/'], sts);
  assert.equal(code, 0, stderr);
  for (const req of seen) {
    assert.equal(req.headers['x-fc-security-token'], 'token-123');
    assertSigned(req, SECRET, 'STS.tempkey');
  }
});

test('missing credentials are named, and nothing is sent', async () => {
  for (const name of ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_ACCOUNT_ID']) {
    const { code, stderr } = await remote(['status'], env({ [name]: undefined }));
    assert.equal(code, 2);
    assert.match(stderr, new RegExp(`${name}: not set`));
  }
  const sts = await remote(['status'], env({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.tempkey' }));
  assert.equal(sts.code, 2);
  assert.match(sts.stderr, /ALIBABA_CLOUD_SECURITY_TOKEN: not set, but the access key is an STS key/);
  const badAccount = await remote(['status'], env({ ALIBABA_CLOUD_ACCOUNT_ID: 'my-account' }));
  assert.match(badAccount.stderr, /ALIBABA_CLOUD_ACCOUNT_ID: must be the numeric account id/);
  assert.equal(seen.length, 0);
});

test('bad arguments are refused before any request', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['set-seed', 'ftp://x.example/'], /http\(s\) URL/],
    [['set-seed', 'not a url'], /not a URL/],
    [['set-seed'], /wrong arguments/],
    [['invoke-crawler', '--payload', '[1]'], /must be a JSON object/],
    [['invoke-crawler', '--payload', '{'], /not valid JSON/],
    [['frobnicate'], /unknown remote command/],
  ];
  for (const [argv, message] of cases) {
    const { code, stderr } = await remote(argv);
    assert.notEqual(code, 0, argv.join(' '));
    assert.match(stderr, message, argv.join(' '));
  }
  assert.equal(seen.length, 0);
});

test('an FC API error is reported with its code and message, exit 1', async () => {
  routes = [() => ({ status: 403, json: { ErrorCode: 'InvalidAccessKeyId.NotFound', ErrorMessage: 'Specified access key is not found.' } })];
  const { code, stdout, stderr } = await remote(['status']);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  const line = JSON.parse(stderr.split('\n')[0]);
  assert.equal(line.level, 'error');
  assert.match(line.error.message, /failed with 403/);
  assert.match(line.error.message, /Specified access key is not found/);
});
