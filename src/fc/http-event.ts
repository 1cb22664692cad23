import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { err, ok, type Result } from '../result';
import { describeZodError } from '../util/zod-error';
import type { FcHttpTriggerEvent } from './types';

/** A plain HTTP request, free of FC's event shape. Header names are lower-cased for case-insensitive lookup. */
export interface HttpRequest {
  method: string;
  /** The request path, percent-decoded exactly once. */
  path: string;
  /** The path as it arrived, still percent-encoded. */
  rawPath: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
  sourceIp?: string;
}

const stringMap = z.record(z.string(), z.string());

const httpEventSchema = z.object({
  version: z.string().optional(),
  rawPath: z.string(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  headers: stringMap.optional(),
  queryParameters: stringMap.optional(),
  requestContext: z
    .object({
      requestId: z.string().optional(),
      http: z
        .object({ method: z.string().optional(), path: z.string().optional(), sourceIp: z.string().optional() })
        .optional(),
    })
    .optional(),
});

/** FC hands the event over as a Buffer; local callers and tests may pass a string or an object. */
export function eventToObject(event: unknown): Result<unknown> {
  if (Buffer.isBuffer(event) || typeof event === 'string') {
    const text = event.toString();
    try {
      return ok(JSON.parse(text));
    } catch (e) {
      return err(`event is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (event !== null && typeof event === 'object') return ok(event);
  return err(`event must be a Buffer, string or object, got ${event === null ? 'null' : typeof event}`);
}

export function parseHttpEvent(event: unknown): Result<HttpRequest> {
  const obj = eventToObject(event);
  if (!obj.ok) return obj;
  const parsed = httpEventSchema.safeParse(obj.value);
  if (!parsed.success) return err(`malformed HTTP trigger event: ${describeZodError(parsed.error)}`);
  const e: FcHttpTriggerEvent = parsed.data;

  let path: string;
  try {
    path = decodeURIComponent(e.rawPath);
  } catch {
    return err(`malformed percent-encoding in path ${JSON.stringify(e.rawPath)}`);
  }

  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.headers ?? {})) headers[k.toLowerCase()] = v;

  const method = (e.requestContext?.http?.method ?? 'GET').toUpperCase();
  const body = Buffer.from(e.body ?? '', e.isBase64Encoded ? 'base64' : 'utf8');
  return ok({
    method,
    path,
    rawPath: e.rawPath,
    query: { ...(e.queryParameters ?? {}) },
    headers,
    body,
    requestId: e.requestContext?.requestId ?? headers['x-fc-request-id'] ?? randomUUID(),
    sourceIp: e.requestContext?.http?.sourceIp,
  });
}
