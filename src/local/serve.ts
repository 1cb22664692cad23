/**
 * The local stand-in for FC's HTTP front end: each HTTP request becomes exactly the FC 3.0 HTTP-trigger event,
 * the image function's exported handler answers it, and its reply is written back. The same server is the
 * image function's bootstrap on FC's custom.debian12 runtime, where FC forwards plain HTTP to it.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import { replyBody } from '../fc/reply';
import type { FcHttpReply, FcHttpTriggerEvent } from '../fc/types';

export type HttpHandler = (event: Buffer, context: object) => Promise<FcHttpReply>;
export type Initializer = (context: object) => Promise<void>;

export interface LocalServerOptions {
  handler: HttpHandler;
  /** Answers FC's Initializer hook (a request with `x-fc-control-path: /initialize`). */
  initializer?: Initializer;
  logger: Logger;
  /** function.timeout in the context given to the handler, in seconds. */
  timeoutSeconds?: number;
}

/** FC's own cap on a synchronous request body. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const TEXT_BODY = /^(text\/|application\/(json|x-www-form-urlencoded|xml))/i;

/** FC joins repeated headers and query values with commas, so the event has one string per name. */
function joinValues(entries: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) out[k] = k in out ? `${out[k]},${v}` : v;
  return out;
}

export function toFcEvent(req: http.IncomingMessage, body: Buffer, requestId: string, now = new Date()): FcHttpTriggerEvent {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  let path = url.pathname;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    // FC hands malformed encodings through undecoded; the handler rejects them from rawPath.
  }
  const textual = TEXT_BODY.test(req.headers['content-type'] ?? '');
  const host = req.headers.host ?? 'localhost';
  return {
    version: 'v1',
    rawPath: url.pathname,
    body: textual ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !textual && body.length > 0,
    headers: joinValues(headers),
    queryParameters: joinValues(url.searchParams),
    requestContext: {
      accountId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0],
      http: {
        method: req.method ?? 'GET',
        path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId,
      time: now.toISOString(),
      timeEpoch: String(now.getTime()),
    },
  };
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

export function createLocalServer(options: LocalServerOptions): http.Server {
  const { handler, logger } = options;
  const timeout = options.timeoutSeconds ?? 60;
  const server = http.createServer((req, res) => {
    const started = Date.now();
    // On FC's custom runtime the platform names the request; locally we mint one.
    const header = req.headers['x-fc-request-id'];
    const requestId = typeof header === 'string' && header ? header : randomUUID();
    const log = logger.child({ requestId });
    const finish = (reply: FcHttpReply) => {
      const body = replyBody(reply);
      res.writeHead(reply.statusCode, { ...reply.headers, 'content-length': String(body.length), 'x-fc-request-id': requestId });
      res.end(req.method === 'HEAD' ? undefined : body);
      log.info('request', { method: req.method, url: req.url, status: reply.statusCode, ms: Date.now() - started });
    };
    readBody(req)
      .then(async (body) => {
        if (body === null) {
          finish({ statusCode: 413, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'request body too large', isBase64Encoded: false });
          return;
        }
        const context = { requestId, function: { name: 'image', timeout, memory: 2048 }, credentials: {} };
        // FC's custom runtime names lifecycle calls in this header; a 2xx tells FC the hook succeeded.
        const control = req.headers['x-fc-control-path'];
        if (control === '/initialize' || control === '/pre-stop') {
          if (control === '/initialize') await options.initializer?.(context);
          finish({ statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'OK', isBase64Encoded: false });
          return;
        }
        const event = toFcEvent(req, body, requestId);
        finish(await handler(Buffer.from(JSON.stringify(event)), context));
      })
      .catch((error: unknown) => {
        log.error('handler failed', { method: req.method, url: req.url, error });
        if (!res.headersSent) {
          finish({ statusCode: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'internal error', isBase64Encoded: false });
        } else res.destroy();
      });
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
