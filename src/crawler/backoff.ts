/**
 * When a page or image that met a transient failure (5xx, 429, a timeout, ...) is tried again: exponential in the
 * attempts made, across runs, and never before the server's Retry-After.
 */
const FIRST_DELAY_MS = 60_000;
const MAX_DELAY_MS = 6 * 60 * 60_000;
/** A Retry-After further away than this is read as this: a page is not parked for months by one header. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60_000;

/** Epoch ms of the next attempt after `attempts` failed ones. */
export function nextAttemptAt(now: number, attempts: number, retryAfterMs?: number): number {
  const exponential = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return now + Math.max(exponential, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}
