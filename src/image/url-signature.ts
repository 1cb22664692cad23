/**
 * Signed URLs (off unless IMAGE_URL_SECRET is set), as thumbor, imgproxy and imagor offer them: a request must
 * carry `sig`, the base64url HMAC-SHA256 of its path and its sorted query without `sig`; an optional `exp` (epoch
 * seconds) ends its life. During a key rotation IMAGE_URL_SECRET_PREVIOUS is accepted too, and links are signed
 * with the current key only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from '../fc/http-event';
import { err, ok, type Result } from '../result';
import { problem, type Problem } from './problem';

export interface SigningKeys {
  current: string;
  previous?: string;
}

export function signingKeysFromEnv(env: NodeJS.ProcessEnv): SigningKeys | undefined {
  const current = env.IMAGE_URL_SECRET;
  if (!current) return undefined;
  return { current, ...(env.IMAGE_URL_SECRET_PREVIOUS ? { previous: env.IMAGE_URL_SECRET_PREVIOUS } : {}) };
}

/** The signed text: the decoded path, a newline, and the query sorted by name, each part percent-encoded. */
export function canonicalRequest(path: string, query: Record<string, string>): string {
  const pairs = Object.entries(query)
    .filter(([name]) => name !== 'sig')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${path}\n${pairs.join('&')}`;
}

export function signature(path: string, query: Record<string, string>, secret: string): string {
  return createHmac('sha256', secret).update(canonicalRequest(path, query)).digest('base64url');
}

/** `params` plus `exp` (when a TTL is given) and the `sig` that covers them. */
export function signParams(
  path: string,
  params: Record<string, string>,
  secret: string,
  options: { ttlSeconds?: number; now?: number } = {},
): Record<string, string> {
  const signed: Record<string, string> = { ...params };
  delete signed.sig;
  if (options.ttlSeconds !== undefined) signed.exp = String(Math.floor((options.now ?? Date.now()) / 1000) + Math.ceil(options.ttlSeconds));
  return { ...signed, sig: signature(path, signed, secret) };
}

function matches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // The length of a base64url SHA-256 is public; only equal lengths are compared, in constant time.
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Undefined when the request may pass; otherwise the 403 that says why. A POST body is not covered, so it is refused. */
export function checkSignature(
  request: { method: string; path: string; query: Record<string, string>; body: Buffer },
  keys: SigningKeys | undefined,
  now: number = Date.now(),
): Problem | undefined {
  if (!keys) return undefined;
  const given = request.query.sig;
  if (!given) return problem(403, 'this service requires signed URLs: the request has no sig parameter');
  const valid = [keys.current, keys.previous].some((key) => key !== undefined && matches(given, signature(request.path, request.query, key)));
  if (!valid) return problem(403, 'the signature (sig) does not match this path and query');
  const exp = request.query.exp;
  if (exp !== undefined) {
    if (!/^\d{1,12}$/.test(exp)) return problem(403, `exp must be a time in epoch seconds, got ${JSON.stringify(exp)}`);
    if (Number(exp) * 1000 <= now) return problem(403, `this signed URL expired at ${new Date(Number(exp) * 1000).toISOString()}`);
  }
  if (request.method === 'POST' && request.body.length > 0) {
    return problem(403, 'with signed URLs, parameters go in the signed query string, not in a POST body');
  }
  return undefined;
}

/**
 * The image core's gate: the request without `sig` and `exp` (which are not image parameters) when it may pass,
 * else the 403. Links signed before signing was switched off keep working.
 */
export function verifySignedRequest(request: HttpRequest, keys: SigningKeys | undefined, now: number = Date.now()): Result<HttpRequest, Problem> {
  const refusal = checkSignature(request, keys, now);
  if (refusal) return err(refusal);
  const query = { ...request.query };
  delete query.sig;
  delete query.exp;
  return ok({ ...request, query });
}

/** `fc-nas-images sign`: a path with its query (or a whole URL) made into a signed URL. */
export function signUrl(target: string, secret: string, ttlSeconds?: number, now?: number): string {
  const absolute = /^https?:\/\//i.test(target);
  const url = new URL(target, 'http://localhost');
  const params: Record<string, string> = {};
  for (const [name, value] of url.searchParams) params[name] = name in params ? `${params[name]},${value}` : value;
  const signed = signParams(decodeURIComponent(url.pathname), params, secret, { ttlSeconds, now });
  return `${absolute ? url.origin : ''}${url.pathname}?${new URLSearchParams(signed)}`;
}
