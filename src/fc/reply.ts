import type { FcHttpReply } from './types';

/** What a core handler returns: status, headers and a body that may be binary. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

const TEXTUAL = /^(text\/|application\/(json|xml|javascript)|image\/svg\+xml)/;

/** Text bodies travel as-is; anything binary is base64-encoded, as FC requires. */
export function buildReply(response: HttpResponse): FcHttpReply {
  const contentType = Object.entries(response.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  const binary = Buffer.isBuffer(response.body) && !TEXTUAL.test(contentType);
  const body = binary
    ? (response.body as Buffer).toString('base64')
    : Buffer.isBuffer(response.body)
      ? response.body.toString('utf8')
      : response.body;
  return { statusCode: response.status, headers: { ...response.headers }, body, isBase64Encoded: binary };
}

/** Turns an FC reply back into bytes, for the local server that plays FC's front end. */
export function replyBody(reply: FcHttpReply): Buffer {
  return Buffer.from(reply.body ?? '', reply.isBase64Encoded ? 'base64' : 'utf8');
}
