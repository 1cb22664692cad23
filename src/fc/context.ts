import { randomUUID } from 'node:crypto';
import { createLogger, levelFromEnv, type Logger } from '../log';
import type { FcContext } from './types';

export interface InvocationContext {
  requestId: string;
  /** Epoch ms when FC will kill the invocation: FC has no remaining-time call, so it is derived from function.timeout. */
  deadline: number;
  logger: Logger;
  functionName?: string;
}

export const DEFAULT_TIMEOUT_SECONDS = 300;

export function fromContext(context: unknown, now: number = Date.now()): InvocationContext {
  const ctx = (context !== null && typeof context === 'object' ? context : {}) as FcContext;
  const requestId = typeof ctx.requestId === 'string' && ctx.requestId ? ctx.requestId : randomUUID();
  const timeout = ctx.function?.timeout;
  const seconds = typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_SECONDS;
  const functionName = ctx.function?.name;
  const logger = createLogger({ requestId, ...(functionName ? { function: functionName } : {}) }, undefined, levelFromEnv());
  return { requestId, deadline: now + seconds * 1000, logger, functionName };
}
