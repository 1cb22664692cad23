/**
 * A timer trigger's config as the FC 3.0 API returns it: `triggerConfig` is a JSON string (older answers carry
 * an object), and its `payload` is a JSON string again, which holds the crawler's config.
 */
import { z } from 'zod';
import { describeZodError } from '../util/zod-error';
import { err, ok, type Result } from '../result';

export interface TimerConfig {
  /** Every field of the trigger config, kept so an update changes only the payload. */
  config: Record<string, unknown>;
  payload: Record<string, unknown>;
}

const timerConfigSchema = z.looseObject({
  cronExpression: z.string(),
  enable: z.boolean(),
  payload: z.string().optional(),
});
const payloadSchema = z.record(z.string(), z.unknown());

function parseJson(text: string, what: string): Result<unknown> {
  try {
    return ok(JSON.parse(text));
  } catch (e) {
    return err(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

export function readTimerConfig(trigger: Record<string, unknown>): Result<TimerConfig> {
  const raw = typeof trigger.triggerConfig === 'string' ? parseJson(trigger.triggerConfig, 'triggerConfig') : ok(trigger.triggerConfig);
  if (!raw.ok) return raw;
  const config = timerConfigSchema.safeParse(raw.value);
  if (!config.success) return err(`trigger ${String(trigger.triggerName)} is not a timer trigger: ${describeZodError(config.error)}`);
  const payloadText = config.data.payload?.trim() ? config.data.payload : '{}';
  const payloadJson = parseJson(payloadText, 'timer payload');
  if (!payloadJson.ok) return payloadJson;
  const payload = payloadSchema.safeParse(payloadJson.value);
  if (!payload.success) return err('timer payload must be a JSON object');
  return ok({ config: config.data, payload: payload.data });
}

/** The UpdateTrigger body that swaps in `payload` and keeps the rest of the timer config. */
export function withPayload(timer: TimerConfig, payload: Record<string, unknown>): { triggerConfig: string } {
  return { triggerConfig: JSON.stringify({ ...timer.config, payload: JSON.stringify(payload) }) };
}
