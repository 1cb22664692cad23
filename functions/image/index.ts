/**
 * FC entry point of the image service (HTTP trigger). It only adapts FC's event and context to a plain call
 * into src/image and turns the answer back into FC's reply shape.
 */
import { fromContext } from '../../src/fc/context';
import { parseHttpEvent } from '../../src/fc/http-event';
import { buildReply } from '../../src/fc/reply';
import type { FcHttpReply } from '../../src/fc/types';
import { handleImageRequest, errorResponse } from '../../src/image/handler';
import { warmUp } from '../../src/image/warm-up';
import { nasRootFromEnv } from '../../src/nas/root';

export async function handler(event: unknown, context: unknown): Promise<FcHttpReply> {
  const ctx = fromContext(context);
  const request = parseHttpEvent(event);
  if (!request.ok) {
    ctx.logger.warn('image event rejected', { error: request.error });
    return buildReply(errorResponse(400, request.error, undefined));
  }
  const logger = ctx.logger.child({ path: request.value.path });
  return buildReply(await handleImageRequest(request.value, { root: nasRootFromEnv(process.env), logger }));
}

/** FC's Initializer hook (instanceLifecycleConfig in s.yaml): warm state before the instance takes requests. */
export async function initialize(context: unknown): Promise<void> {
  const ctx = fromContext(context);
  const started = Date.now();
  await warmUp();
  ctx.logger.info('image function initialized', { ms: Date.now() - started });
}
