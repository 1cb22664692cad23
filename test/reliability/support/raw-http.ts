/**
 * A raw HTTP/1.1 client over a TCP socket: it sends the request target byte for byte (no URL normalisation,
 * no refusal of NUL or backslashes), which is what a fuzzer needs and what fetch or http.request will not do.
 */
import net from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent, e.g. `/img/..%2f..%2fetc/passwd?action=show`. */
  target: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface RawResponse {
  /** 0: the connection closed without a response; -1: no answer within the timeout. */
  status: number;
  body: Buffer;
}

function decodeChunked(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

export function parseResponse(data: Buffer): RawResponse {
  const headEnd = data.indexOf('\r\n\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 20).toString('latin1'));
  if (headEnd < 0 || !match) return { status: 0, body: data };
  const head = data.subarray(0, headEnd).toString('latin1');
  const rest = data.subarray(headEnd + 4);
  return { status: Number(match[1]), body: /\r\ntransfer-encoding:\s*chunked/i.test(head) ? decodeChunked(rest) : rest };
}

export function sendRaw(port: number, req: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
  const body = typeof req.body === 'string' ? Buffer.from(req.body, 'latin1') : (req.body ?? Buffer.alloc(0));
  const headers: Record<string, string> = { host: '127.0.0.1', connection: 'close', ...(body.length ? { 'content-length': String(body.length) } : {}), ...req.headers };
  const head = `${req.method} ${req.target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    const finish = (status?: number) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status === undefined ? parseResponse(Buffer.concat(chunks)) : { status, body: Buffer.concat(chunks) });
    };
    const timer = setTimeout(() => finish(-1), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    // The server may answer (e.g. 413) and close before the whole body is written: keep what was answered.
    socket.on('error', () => finish());
    socket.on('end', () => finish());
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}
