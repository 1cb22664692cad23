/**
 * HTTP GET for the crawler: an undici pool with connect/headers/body timeouts, bounded concurrency, redirects
 * followed by hand (so every hop passes the SSRF guard and the caller's hop check), byte caps on the decoded
 * body, and retries with backoff for transient failures (5xx, 429, timeouts, resets).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { Agent, request } from 'undici';
import { Semaphore } from '../util/semaphore';
import { addressChecker, guardedLookup, refuseLiteralHost, RefusedAddressError, type AddressPolicy } from './ssrf';
import { normaliseUrl } from './url';

export interface FetcherOptions {
  userAgent: string;
  requestTimeoutMs: number;
  retries: number;
  concurrency: number;
  allowPrivateNetworks: AddressPolicy;
  /** Aborts everything in flight when the run must stop. */
  signal: AbortSignal;
}

export interface GetOptions {
  /** A body larger than this (after decoding) fails the fetch. */
  maxBytes: number;
  /** A body known (by Content-Length, or once read) to be smaller than this is reported as too small. */
  minBytes?: number;
  /**
   * Returns why a redirect target may not be followed, or null. It runs between two exchanges, holding no fetch
   * slot, so it may fetch itself (robots.txt of the target's host).
   */
  checkHop?: (url: URL) => Promise<string | null>;
  accept?: string;
}

export type FetchOutcome =
  | { ok: true; url: string; status: number; contentType: string; body: Buffer }
  | {
      ok: false;
      reason: string;
      status?: number;
      tooSmall?: boolean;
      /** Worth another attempt later (5xx, 429, 408, timeouts, resets, DNS); otherwise the answer is final. */
      transient?: boolean;
      /** The server's Retry-After, in ms from now. */
      retryAfterMs?: number;
    };

/** One HTTP exchange: an outcome, or a redirect to follow. */
type Exchange = FetchOutcome | { redirect: string; status: number };

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

class FetchError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly transient = false,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Status codes that say "not now" rather than "no". */
const TRANSIENT_STATUS = new Set([408, 429]);
/** Network failures that a later attempt may not meet: resets, refusals, timeouts, DNS that did not answer. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EAI_FAIL', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

function isTransient(e: unknown): boolean {
  if (e instanceof FetchError) return e.transient;
  if (e instanceof RefusedAddressError || (e as { cause?: unknown }).cause instanceof RefusedAddressError) return false;
  const code = String((e as { code?: unknown }).code ?? '');
  return code.startsWith('UND_ERR_') || TRANSIENT_CODES.has(code);
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function reasonOf(e: unknown): string {
  const error = e as { code?: string; message?: string; cause?: unknown };
  if (error.cause instanceof RefusedAddressError) return error.cause.message;
  return error.code ? `${error.code}: ${error.message}` : String(error.message ?? e);
}

export class Fetcher {
  private readonly agent: Agent;
  private readonly limit: Semaphore;
  private readonly check: (address: string) => string | null;

  constructor(private readonly options: FetcherOptions) {
    this.check = addressChecker(options.allowPrivateNetworks);
    this.agent = new Agent({
      connect: { timeout: Math.min(5_000, options.requestTimeoutMs), lookup: guardedLookup(this.check) },
      connections: options.concurrency,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
    this.limit = new Semaphore(options.concurrency);
  }

  async get(url: string, options: GetOptions): Promise<FetchOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.followRedirects(url, options);
      } catch (e) {
        if (this.options.signal.aborted) return { ok: false, reason: 'aborted: the run reached its deadline' };
        const transient = isTransient(e);
        if (!transient || attempt >= this.options.retries) {
          const tries = attempt + 1;
          const { status, retryAfterMs } = e as FetchError;
          return { ok: false, reason: `${reasonOf(e)}${tries > 1 ? ` (after ${tries} attempts)` : ''}`, status, transient, retryAfterMs };
        }
        await sleep(250 * 2 ** attempt * (0.5 + Math.random()), undefined, { signal: this.options.signal }).catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async followRedirects(start: string, options: GetOptions): Promise<FetchOutcome> {
    const seen = new Set<string>();
    let url = start;
    for (let hop = 0; ; hop++) {
      const refusal = refuseLiteralHost(new URL(url).hostname, this.check);
      if (refusal) throw new FetchError(refusal);
      seen.add(url);
      const exchange = await this.limit.use(() => this.exchange(url, options));
      if (!('redirect' in exchange)) return exchange;
      const { redirect: next, status } = exchange;
      if (seen.has(next)) throw new FetchError(`redirect loop at ${next}`, status);
      if (hop + 1 > MAX_REDIRECTS) throw new FetchError(`more than ${MAX_REDIRECTS} redirects`, status);
      const hopRefusal = await options.checkHop?.(new URL(next));
      if (hopRefusal) throw new FetchError(`redirect to ${next} refused: ${hopRefusal}`, status);
      url = next;
    }
  }

  /** One request and its response, holding a fetch slot throughout. */
  private async exchange(url: string, options: GetOptions): Promise<Exchange> {
    // A real timer, not AbortSignal.timeout(): inside AbortSignal.any() nothing references that signal, so it
    // could be garbage-collected before firing, and a slow-loris body then held the page until the run's hard stop.
    const limitMs = this.options.requestTimeoutMs * 3;
    const hopTimeout = new AbortController();
    const timer = setTimeout(() => hopTimeout.abort(new FetchError(`no complete response within ${limitMs} ms`, undefined, true)), limitMs);
    try {
      const response = await request(url, {
        dispatcher: this.agent,
        method: 'GET',
        signal: AbortSignal.any([this.options.signal, hopTimeout.signal]),
        headers: { 'user-agent': this.options.userAgent, accept: options.accept ?? '*/*', 'accept-encoding': 'gzip, deflate, br' },
      });
      const { statusCode, headers } = response;
      const header = (name: string) => {
        const v = headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      if (REDIRECTS.has(statusCode) && header('location')) {
        discard(response.body);
        const next = normaliseUrl(header('location') ?? '', url);
        if (!next) throw new FetchError(`redirect to an unsupported URL ${JSON.stringify(header('location'))}`, statusCode);
        return { redirect: next, status: statusCode };
      }
      if (statusCode >= 500 || TRANSIENT_STATUS.has(statusCode)) {
        discard(response.body);
        throw new FetchError(`HTTP ${statusCode}`, statusCode, true, parseRetryAfter(header('retry-after')));
      }
      if (statusCode < 200 || statusCode >= 300) {
        discard(response.body);
        throw new FetchError(`HTTP ${statusCode}`, statusCode);
      }
      const contentType = header('content-type') ?? '';
      const declared = header('content-encoding') ? NaN : Number(header('content-length') ?? NaN);
      if (options.minBytes !== undefined && declared < options.minBytes) {
        discard(response.body);
        return { ok: false, reason: `smaller than the cutoff (${declared} bytes by Content-Length)`, tooSmall: true };
      }
      if (declared > options.maxBytes) {
        discard(response.body);
        throw new FetchError(`larger than the cap of ${options.maxBytes} bytes (${declared} by Content-Length)`);
      }
      const body = await readCapped(response.body, header('content-encoding'), options.maxBytes);
      if (options.minBytes !== undefined && body.length < options.minBytes) {
        return { ok: false, reason: `smaller than the cutoff (${body.length} bytes)`, tooSmall: true };
      }
      return { ok: true, url, status: statusCode, contentType, body };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Drops a body we will not read; destroying it emits an abort error that is expected, so it is not reported. */
function discard(body: Readable): void {
  if (body.destroyed) return;
  body.on('error', () => undefined);
  body.destroy();
}

function decoderFor(encoding: string | undefined): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      throw new FetchError(`unsupported Content-Encoding ${encoding}`);
  }
}

/** Reads the body, decoded, and stops as soon as it passes `maxBytes` (so a compression bomb is cut short too). */
async function readCapped(raw: Readable, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  let decoder: ReturnType<typeof decoderFor>;
  try {
    decoder = decoderFor(encoding);
  } catch (e) {
    discard(raw);
    throw e;
  }
  const stream: Readable = decoder ? raw.pipe(decoder) : raw;
  if (decoder) raw.once('error', (e) => decoder.destroy(e));
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) throw new FetchError(`larger than the cap of ${maxBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
  } finally {
    discard(raw);
    decoder?.destroy();
  }
  return Buffer.concat(chunks);
}
