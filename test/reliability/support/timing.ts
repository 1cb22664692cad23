import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Polls until `predicate` is true; false if `timeoutMs` passes first or `stop` resolves. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, stop?: Promise<unknown>, intervalMs = 20): Promise<boolean> {
  let stopped = false;
  void stop?.then(() => (stopped = true));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !stopped) {
    if (predicate()) return true;
    await sleep(intervalMs);
  }
  return predicate();
}

export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
