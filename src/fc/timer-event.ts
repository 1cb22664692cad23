import { z } from 'zod';
import { err, ok, type Result } from '../result';
import { describeZodError } from '../util/zod-error';
import { eventToObject } from './http-event';

export interface TimerInvocation {
  triggerTime?: string;
  triggerName?: string;
  /** The payload string parsed as JSON; validating its fields is the crawler's job. */
  payload: unknown;
}

const timerEventSchema = z.object({
  triggerTime: z.string().optional(),
  triggerName: z.string().optional(),
  payload: z.string(),
});

/** Parses FC's timer event; its `payload` is a string that holds JSON, so it is parsed a second time. */
export function parseTimerEvent(event: unknown): Result<TimerInvocation> {
  const obj = eventToObject(event);
  if (!obj.ok) return obj;
  const parsed = timerEventSchema.safeParse(obj.value);
  if (!parsed.success) return err(`malformed timer event: ${describeZodError(parsed.error)}`);
  const { triggerTime, triggerName, payload } = parsed.data;
  if (payload.trim() === '') return err('timer event payload is empty; it must be a JSON object string');
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch (e) {
    return err(`timer event payload is not valid JSON: ${(e as Error).message}`);
  }
  return ok({ triggerTime, triggerName, payload: value });
}
