/**
 * FC entry point of the image service on a custom runtime (custom.debian12, custom-container): FC forwards plain
 * HTTP to this server, so node's request maps straight to the core's plain request and the core's answer is
 * written straight back. `fc-nas-images serve` and `start` run this same server.
 *
 * Besides the image routes it answers FC's own calls (README, "HTTP API"):
 * - `POST /initialize` (or any request with `x-fc-control-path: /initialize`): FC's Initializer. 200 once OpenCV
 *   and the face classifier are loaded, 500 with the reason when they cannot load.
 * - `POST /pre-stop` (or `x-fc-control-path: /pre-stop`): FC's PreStop hook; nothing to flush, so 200.
 * - `POST /invoke`: what FC turns an InvokeFunction call into. Its JSON body `{"path", "action", ...}` is answered
 *   exactly as `GET <path>?action=...` would be.
 * - `GET /healthz`: src/image/health.ts.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { HttpRequest } from '../../src/fc/http-event';
import type { HttpResponse } from '../../src/fc/reply';
import { createLogger, levelFromEnv, type Logger } from '../../src/log';
import { nasRootFromEnv } from '../../src/nas/root';
import { errorResponse, handleImageRequest } from '../../src/image/handler';
import { healthReport } from '../../src/image/health';
import { warmUp } from '../../src/image/warm-up';
import { describeZodError } from '../../src/util/zod-error';

export interface ImageServerOptions {
  root: string;
  logger: Logger;
  /** What the Initializer waits for; warmUp unless a test replaces it. */
  initialize?: () => Promise<void>;
}

/** FC's own cap on a synchronous request body. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const TEXT = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

type Lifecycle = '/initialize' | '/pre-stop';

/** FC 3.0 posts to the path; older runtimes send the header. Both name the same hook. */
function lifecycleHook(req: http.IncomingMessage, pathname: string): Lifecycle | undefined {
  const header = req.headers['x-fc-control-path'];
  if (header === '/initialize' || header === '/pre-stop') return header;
  if (req.method === 'POST' && (pathname === '/initialize' || pathname === '/pre-stop')) return pathname;
  return undefined;
}

/** FC joins repeated headers and query values with commas; the core expects one string per name. */
function joinValues(entries: Iterable<[string, string]>, lowerCase = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    const k = lowerCase ? name.toLowerCase() : name;
    out[k] = k in out ? `${out[k]},${value}` : value;
  }
  return out;
}

function headerPairs(req: http.IncomingMessage): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  return pairs;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The core's plain request from node's; undefined when the path's percent-encoding is malformed. */
export function toHttpRequest(req: http.IncomingMessage, body: Buffer, requestId: string): HttpRequest | undefined {
  const url = new URL(req.url ?? '/', 'http://localhost');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path,
    rawPath: url.pathname,
    query: joinValues(url.searchParams),
    headers: joinValues(headerPairs(req), true),
    body,
    requestId,
    sourceIp: req.socket.remoteAddress,
  };
}

const invokeSchema = z
  .object({ path: z.string().startsWith('/', 'must start with /') })
  .catchall(z.union([z.string(), z.number(), z.boolean()]));

/**
 * `POST /invoke` (FC's InvokeFunction): `{"path":"/img/a.jpg","action":"rotate","angle":90}` becomes the GET the
 * HTTP route would answer; the caller's Accept header still chooses between an HTML and a JSON error.
 */
export function invokeRequest(request: HttpRequest): HttpRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(request.body.toString('utf8'));
  } catch (e) {
    return `the /invoke body is not JSON: ${(e as Error).message}`;
  }
  const parsed = invokeSchema.safeParse(value);
  if (!parsed.success) return `the /invoke body must be {"path":"/...", "action":..., ...}: ${describeZodError(parsed.error)}`;
  const { path, ...params } = parsed.data;
  const query = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const rawPath = path.split('/').map(encodeURIComponent).join('/');
  return { ...request, method: 'GET', path, rawPath, query, body: Buffer.alloc(0) };
}

function send(res: http.ServerResponse, req: http.IncomingMessage, response: HttpResponse, requestId: string): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  res.writeHead(response.status, { ...response.headers, 'content-length': String(body.length), 'x-fc-request-id': requestId });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function createImageServer(options: ImageServerOptions): http.Server {
  const { root, logger } = options;
  const initialize = options.initialize ?? warmUp;
  // One load per instance: FC may call the Initializer again after a failure, and the local runtime before FC's.
  let loading: Promise<void> | undefined;
  const initialized = () => {
    loading ??= initialize().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };

  async function answer(req: http.IncomingMessage, requestId: string, log: Logger): Promise<HttpResponse> {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const hook = lifecycleHook(req, pathname);
    if (hook === '/initialize') {
      const started = Date.now();
      try {
        await initialized();
      } catch (error) {
        log.error('initializer failed', { error });
        return { status: 500, headers: TEXT, body: `initialization failed: ${(error as Error).message}` };
      }
      log.info('image function initialized', { durationMs: Date.now() - started });
      return { status: 200, headers: TEXT, body: 'OK' };
    }
    if (hook === '/pre-stop') return { status: 200, headers: TEXT, body: 'OK' };
    if (req.method === 'GET' && pathname === '/healthz') {
      return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: JSON.stringify(await healthReport(root, process.env)) };
    }

    const body = await readBody(req);
    if (body === null) return { status: 413, headers: TEXT, body: 'request body too large' };
    const plain = toHttpRequest(req, body, requestId);
    if (!plain) return errorResponse(400, `malformed percent-encoding in path ${JSON.stringify(req.url)}`, undefined);
    const request = req.method === 'POST' && pathname === '/invoke' ? invokeRequest(plain) : plain;
    if (typeof request === 'string') return errorResponse(400, request, plain);
    return handleImageRequest(request, { root, logger: log.child({ path: request.path }) });
  }

  const server = http.createServer((req, res) => {
    // On FC the platform names the request; locally one is minted.
    const header = req.headers['x-fc-request-id'];
    const requestId = typeof header === 'string' && header ? header : randomUUID();
    const log = logger.child({ requestId });
    answer(req, requestId, log).then(
      (response) => send(res, req, response, requestId),
      (error: unknown) => {
        log.error('image server failed', { method: req.method, url: req.url, error });
        if (res.headersSent) res.destroy();
        else send(res, req, { status: 500, headers: TEXT, body: 'internal error; the request id is in the service log' }, requestId);
      },
    );
  });
  // FC's custom runtime reuses connections to the instance; outlive its proxy's idle timeout instead of resetting.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

export function listen(server: http.Server, port: number, host: string): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
      resolve({ url: `http://${shownHost}:${actual}/`, port: actual });
    });
  });
}

/** The packaged bootstrap's entry: FC sets the port (customRuntimeConfig.port, also in FC_SERVER_PORT). */
if (require.main === module) {
  const logger = createLogger({ function: 'image' }, undefined, levelFromEnv());
  const port = Number(process.env.FC_SERVER_PORT ?? 9000);
  const server = createImageServer({ root: nasRootFromEnv(process.env), logger });
  listen(server, port, '0.0.0.0').then(
    ({ port: actual }) => logger.info('image function listening', { port: actual }),
    (error: unknown) => {
      logger.error('image function cannot listen', { port, error });
      process.exitCode = 1;
    },
  );
  process.once('SIGTERM', () => server.close());
}
