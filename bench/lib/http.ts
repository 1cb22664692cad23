/** Timed HTTP requests: the clock runs from sending the request until the last body byte has arrived. */
import { request } from 'undici';

export interface Timed {
  ms: number;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export async function timedGet(url: string, headers: Record<string, string> = {}): Promise<Timed> {
  const start = performance.now();
  const res = await request(url, { headers, headersTimeout: 300_000, bodyTimeout: 300_000 });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { ms: performance.now() - start, status: res.statusCode, headers: res.headers, body };
}
