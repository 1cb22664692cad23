/** The three remote commands, on top of the FC API; each answers a JSON-ready value or a reason it could not. */
import { err, ok, type Result } from '../result';
import { buildTimerEvent } from '../deploy/timer-event';
import type { RemoteConfig } from './config';
import type { FcApi } from './fc-api';
import { readTimerConfig, withPayload } from './timer-config';

type Target = Pick<RemoteConfig, 'crawlerFunction' | 'timerTrigger'>;

function parseMaybeJson(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Runs the crawler once, synchronously, with the deployed timer payload (plus `overrides`), exactly as the
 * timer would deliver it, and answers the crawl result.
 */
export async function invokeCrawler(api: FcApi, target: Target, overrides: Record<string, unknown>): Promise<Result<unknown>> {
  const timer = readTimerConfig(await api.getTrigger(target.crawlerFunction, target.timerTrigger));
  if (!timer.ok) return timer;
  const text = await api.invokeFunction(target.crawlerFunction, buildTimerEvent({ ...timer.value.payload, ...overrides }));
  const result = parseMaybeJson(text);
  if (typeof result === 'string') return err(`the crawler answered something that is not JSON: ${result.slice(0, 200)}`);
  return ok(result);
}

const isoTime = (ms: unknown) => (typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : undefined);

/** The crawler's function info, its timer, and the last timer run (an async task) with its crawl result. */
export async function status(api: FcApi, target: Target): Promise<Result<unknown>> {
  const [fn, trigger, task] = await Promise.all([
    api.getFunction(target.crawlerFunction),
    api.getTrigger(target.crawlerFunction, target.timerTrigger),
    api.latestAsyncTask(target.crawlerFunction),
  ]);
  const timer = readTimerConfig(trigger);
  if (!timer.ok) return timer;
  const { cronExpression, enable } = timer.value.config;
  return ok({
    function: fn,
    timer: { triggerName: target.timerTrigger, cronExpression, enable, payload: timer.value.payload },
    lastCrawl: task
      ? {
          taskId: task.taskId,
          status: task.status,
          startedTime: isoTime(task.startedTime),
          endTime: isoTime(task.endTime),
          durationMs: task.durationMs,
          error: task.taskErrorMessage,
          result: parseMaybeJson(task.returnPayload),
        }
      : null,
  });
}

/** Points the timer at a new seed URL, keeping the rest of its payload and config. */
export async function setSeed(api: FcApi, target: Target, url: string): Promise<Result<unknown>> {
  let seed: URL;
  try {
    seed = new URL(url);
  } catch {
    return err(`not a URL: ${JSON.stringify(url)}`);
  }
  if (seed.protocol !== 'http:' && seed.protocol !== 'https:') return err(`the seed must be an http(s) URL, got ${seed.protocol}`);
  const timer = readTimerConfig(await api.getTrigger(target.crawlerFunction, target.timerTrigger));
  if (!timer.ok) return timer;
  const payload = { ...timer.value.payload, url: seed.href };
  await api.updateTrigger(target.crawlerFunction, target.timerTrigger, withPayload(timer.value, payload));
  return ok({ function: target.crawlerFunction, triggerName: target.timerTrigger, payload });
}
