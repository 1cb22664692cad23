/**
 * HTTP GET for the crawler: an undici pool with connect/headers/body timeouts, bounded concurrency, redirects
 * followed by hand (so every hop passes the SSRF guard and the caller's hop check), byte caps on the decoded
 * body, retries with backoff for transient failures (5xx, 429, 408, timeouts, resets), per-host pacing (host-pacer.ts)
 * before every exchange, and conditional GET when the caller knows a response's validators.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { Agent, request } from 'undici';
import { Semaphore } from '../util/semaphore';
import { HostPacer, parseRetryAfter } from './host-pacer';
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
  /** Minimum gap between two requests to one host, ms (payload `hostDelayMs`). */
  hostDelayMs?: number;
  /** Cap on a robots.txt `Crawl-delay`, ms (payload `maxCrawlDelay`). */
  maxCrawlDelay?: number;
  /** Epoch ms after which no request waits for its host: such a request is deferred, not made. */
  stopRequestsAt?: number;
}

export interface GetOptions {
  /** A body larger than this (after decoding) fails the fetch; a function picks the cap by the response's Content-Type. */
  maxBytes: number | ((contentType: string) => number);
  /** A body known (by Content-Length, or once read) to be smaller than this is reported as too small. */
  minBytes?: number;
  /**
   * Returns why a redirect target may not be followed, or null. It runs between two exchanges, holding no fetch
   * slot, so it may fetch itself (robots.txt of the target's host).
   */
  checkHop?: (url: URL) => Promise<string | null>;
  accept?: string;
}

/** What a response said about its version, for a later conditional GET. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

export type FetchOutcome =
  | { ok: true; notModified?: undefined; url: string; status: number; contentType: string; body: Buffer; validators: Validators }
  | FetchFailure;

export interface FetchFailure {
  ok: false;
  reason: string;
  status?: number;
  tooSmall?: boolean;
  /** 5xx, 429, 408, a timeout, a reset, or deferred by the host's pacing: worth another attempt later. */
  transient?: boolean;
  /** The host asked (Retry-After) or its pacing needs this long before the next request, ms. */
  retryAfterMs?: number;
  /** The (next) request was not made: the host's pause or pacing would have passed `stopRequestsAt`. */
  deferred?: boolean;
  /** Deferred before any request for this URL went out: not an attempt at it. */
  unsent?: boolean;
}

/** A 304 to a conditional GET: the known version is current; no body was read. */
export interface NotModified {
  ok: true;
  notModified: true;
  url: string;
  status: 304;
  validators: Validators;
}

/** One HTTP exchange: an outcome, or a redirect to follow. */
type Exchange = FetchOutcome | NotModified | { redirect: string; status: number };

interface RequestOptions extends GetOptions {
  validators?: Validators;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

class FetchError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly transient = false,
    /** Set for 429 and 503: the host is paused by the fetcher for Retry-After, or else for the backoff. */
    readonly pausedHost?: { url: string; retryAfterMs?: number },
  ) {
    super(message);
  }
}

/** The host's pacing would pass the run's stop: the request is not made. */
class DeferredError extends Error {
  /** `requested`: an earlier hop of the redirect chain went out. */
  constructor(
    readonly retryAfterMs: number,
    readonly requested: boolean,
  ) {
    super(`not requested: its host is not free again for ${Math.ceil(retryAfterMs / 1000)} s, past the run's end`);
  }
}

/** Network failures that a later attempt may not meet: resets, refusals, timeouts, DNS that did not answer. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EAI_FAIL', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

function isTransient(e: unknown): boolean {
  if (e instanceof FetchError) return e.transient;
  if (e instanceof DeferredError) return true;
  if (e instanceof RefusedAddressError || (e as { cause?: unknown }).cause instanceof RefusedAddressError) return false;
  const code = String((e as { code?: unknown }).code ?? '');
  return code.startsWith('UND_ERR_') || TRANSIENT_CODES.has(code);
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
  readonly pacer: HostPacer;

  constructor(private readonly options: FetcherOptions) {
    this.pacer = new HostPacer({ hostDelayMs: options.hostDelayMs ?? 0, maxCrawlDelayMs: options.maxCrawlDelay ?? 10_000, stopAt: options.stopRequestsAt });
    this.check = addressChecker(options.allowPrivateNetworks);
    this.agent = new Agent({
      connect: { timeout: Math.min(5_000, options.requestTimeoutMs), lookup: guardedLookup(this.check) },
      connections: options.concurrency,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
    this.limit = new Semaphore(options.concurrency);
    // Each exchange in flight listens to the run's signal, and so may its pacing or retry wait.
    setMaxListeners(Math.max(getMaxListeners(options.signal), 2 * options.concurrency + 10), options.signal);
  }

  /** A GET. Without validators a 304 is never asked for, so it is never a NotModified. */
  async get(url: string, options: GetOptions): Promise<FetchOutcome> {
    return (await this.request(url, options)) as FetchOutcome;
  }

  /** A conditional GET: `If-None-Match` / `If-Modified-Since` from the validators; a 304 is a NotModified. */
  async revalidate(url: string, validators: Validators, options: GetOptions): Promise<FetchOutcome | NotModified> {
    return this.request(url, { ...options, validators });
  }

  private async request(url: string, options: RequestOptions): Promise<FetchOutcome | NotModified> {
    let previous: FetchError | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.followRedirects(url, options);
      } catch (e) {
        if (this.options.signal.aborted) return { ok: false, reason: 'aborted: the run reached its deadline' };
        if (e instanceof DeferredError) {
          const reason = previous ? `${previous.message}, then ${e.message}` : e.message;
          const unsent = attempt === 0 && !e.requested;
          return { ok: false, reason, status: previous?.status, transient: true, retryAfterMs: e.retryAfterMs, deferred: true, ...(unsent && { unsent }) };
        }
        if (e instanceof FetchError) previous = e;
        const backoffMs = 250 * 2 ** attempt * (0.5 + Math.random());
        const paused = e instanceof FetchError ? e.pausedHost : undefined;
        // 429/503 slow the whole host down, so its other pages and images wait as well instead of using up retries.
        if (paused) this.pacer.pause(paused.url, paused.retryAfterMs ?? backoffMs);
        if (!isTransient(e) || attempt >= this.options.retries) {
          const tries = attempt + 1;
          const failure: FetchFailure = { ok: false, reason: `${reasonOf(e)}${tries > 1 ? ` (after ${tries} attempts)` : ''}`, status: (e as FetchError).status };
          if (isTransient(e)) failure.transient = true;
          if (paused?.retryAfterMs !== undefined) failure.retryAfterMs = paused.retryAfterMs;
          return failure;
        }
        if (!paused) await sleep(backoffMs, undefined, { signal: this.options.signal }).catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async followRedirects(start: string, options: RequestOptions): Promise<FetchOutcome | NotModified> {
    const seen = new Set<string>();
    let url = start;
    for (let hop = 0; ; hop++) {
      const refusal = refuseLiteralHost(new URL(url).hostname, this.check);
      if (refusal) throw new FetchError(refusal);
      seen.add(url);
      const exchange = await this.limit.use(async () => {
        // Paced inside the fetch slot, so the start the pacer records is when the request really goes out.
        const turn = await this.pacer.turn(url, this.options.signal);
        if (!turn.ok) throw new DeferredError(turn.retryAfterMs, hop > 0);
        return this.exchange(url, options);
      });
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
  private async exchange(url: string, options: RequestOptions): Promise<Exchange> {
    // One controller per exchange, aborted by a real timer (a slow-loris body must not hold the page until the run's
    // hard stop) or by the run's signal. Cheaper per request than AbortSignal.any() of the two, and nothing in it can
    // be garbage-collected before it fires, as an AbortSignal.timeout() inside any() could.
    const limitMs = this.options.requestTimeoutMs * 3;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new FetchError(`no complete response within ${limitMs} ms`, undefined, true)), limitMs);
    const run = this.options.signal;
    const onRunAbort = () => abort.abort(run.reason);
    if (run.aborted) onRunAbort();
    else run.addEventListener('abort', onRunAbort, { once: true });
    try {
      const response = await request(url, {
        dispatcher: this.agent,
        method: 'GET',
        signal: abort.signal,
        headers: {
          'user-agent': this.options.userAgent,
          accept: options.accept ?? '*/*',
          'accept-encoding': 'gzip, deflate, br',
          ...(options.validators?.etag ? { 'if-none-match': options.validators.etag } : {}),
          ...(options.validators?.lastModified ? { 'if-modified-since': options.validators.lastModified } : {}),
        },
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
      const validators = (): Validators => ({
        ...(header('etag') ? { etag: header('etag') } : {}),
        ...(header('last-modified') ? { lastModified: header('last-modified') } : {}),
      });
      if (statusCode === 304 && options.validators) {
        discard(response.body);
        return { ok: true, notModified: true, url, status: 304, validators: { ...options.validators, ...validators() } };
      }
      if (statusCode === 429 || statusCode === 503) {
        discard(response.body);
        throw new FetchError(`HTTP ${statusCode}`, statusCode, true, { url, retryAfterMs: parseRetryAfter(header('retry-after')) });
      }
      if (statusCode >= 500 || statusCode === 408) {
        discard(response.body);
        throw new FetchError(`HTTP ${statusCode}`, statusCode, true);
      }
      if (statusCode < 200 || statusCode >= 300) {
        discard(response.body);
        throw new FetchError(`HTTP ${statusCode}`, statusCode);
      }
      const contentType = header('content-type') ?? '';
      const maxBytes = typeof options.maxBytes === 'function' ? options.maxBytes(contentType) : options.maxBytes;
      const declared = header('content-encoding') ? NaN : Number(header('content-length') ?? NaN);
      if (options.minBytes !== undefined && declared < options.minBytes) {
        discard(response.body);
        return { ok: false, reason: `smaller than the cutoff (${declared} bytes by Content-Length)`, tooSmall: true };
      }
      if (declared > maxBytes) {
        discard(response.body);
        throw new FetchError(`larger than the cap of ${maxBytes} bytes (${declared} by Content-Length)`);
      }
      const body = await readCapped(response.body, header('content-encoding'), maxBytes);
      if (options.minBytes !== undefined && body.length < options.minBytes) {
        return { ok: false, reason: `smaller than the cutoff (${body.length} bytes)`, tooSmall: true };
      }
      return { ok: true, url, status: statusCode, contentType, body, validators: validators() };
    } finally {
      clearTimeout(timer);
      run.removeEventListener('abort', onRunAbort);
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
