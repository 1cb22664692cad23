/**
 * Builds what FC's timer trigger would deliver to the crawler (a Buffer of {triggerTime, triggerName, payload}
 * where payload is a JSON string) and a context whose function.timeout bounds the run.
 */
import { randomUUID } from 'node:crypto';
import type { FcContext, FcTimerEvent } from '../fc/types';

export const TRIGGER_NAME = 'crawl-every-5-minutes';

export function buildTimerEvent(payload: Record<string, unknown>, now = new Date()): Buffer {
  const event: FcTimerEvent = { triggerTime: now.toISOString(), triggerName: TRIGGER_NAME, payload: JSON.stringify(payload) };
  return Buffer.from(JSON.stringify(event));
}

export function buildCrawlerContext(timeoutSeconds: number, requestId: string = randomUUID()): FcContext {
  return { requestId, function: { name: 'crawler', timeout: timeoutSeconds, memory: 2048 }, credentials: {} };
}
