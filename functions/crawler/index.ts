/**
 * FC entry point of the crawler (timer trigger). It only adapts FC's event and context to a plain call
 * into src/crawler; everything else lives there.
 */
import { fromContext } from '../../src/fc/context';
import { parseTimerEvent } from '../../src/fc/timer-event';
import { parseCrawlPayload } from '../../src/crawler/payload';
import { failedResult, runCrawl, type CrawlResult } from '../../src/crawler/run';

export async function handler(event: unknown, context: unknown): Promise<CrawlResult> {
  const ctx = fromContext(context);
  const timer = parseTimerEvent(event);
  if (!timer.ok) {
    ctx.logger.error('crawler event rejected', { error: timer.error });
    return failedResult(timer.error);
  }
  const payload = parseCrawlPayload(timer.value.payload, process.env);
  if (!payload.ok) {
    ctx.logger.error('crawler payload rejected', { error: payload.error, triggerName: timer.value.triggerName });
    return failedResult(payload.error);
  }
  for (const warning of payload.value.warnings) ctx.logger.warn('crawler payload warning', { warning });
  return runCrawl(payload.value.config, ctx);
}
