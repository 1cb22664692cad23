/**
 * Test fixtures: a real temp folder as the NAS, real images (generated with sharp and the bundled photos), and
 * requests sent through the real FC adapter (functions/image/index.ts) as FC 3.0 HTTP events.
 */
import { after, before } from 'node:test';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { handler } from '../../functions/image/index';
import { replyBody } from '../../src/fc/reply';

export const PHOTOS = path.join(__dirname, '../../assets/photos');

export async function tempNas(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fc-nas-image-test-'));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/**
 * Registers hooks that make a temp NAS with an img/ folder before the suite, filled by `fill`, and remove it
 * after. Read `root` inside tests (it is set once the hook has run).
 */
export function suiteNas(fill: (img: (name: string) => string) => Promise<void>): { root: string } {
  const nas = { root: '' };
  let cleanup = async () => {};
  before(async () => {
    ({ root: nas.root, cleanup } = await tempNas());
    await mkdir(path.join(nas.root, 'img'));
    await fill((name) => path.join(nas.root, 'img', name));
  });
  after(() => cleanup());
  return nas;
}

/** A 300x200 PNG: red top half, blue bottom half, so mirroring and rotation can be checked pixel by pixel. */
export function twoToneImage(width = 300, height = 200): Promise<Buffer> {
  const half = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height / 2}" fill="#f00"/><rect y="${height / 2}" width="${width}" height="${height / 2}" fill="#00f"/></svg>`);
  return sharp(half).png().toBuffer();
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

export interface SendOptions {
  method?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

/** Sends an FC HTTP-trigger event for `rawPath` (still percent-encoded, as FC delivers it) to the real handler. */
export async function send(root: string, rawPath: string, options: SendOptions = {}): Promise<Reply> {
  process.env.NAS_ROOT = root;
  let path = rawPath;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    // left undecoded, as FC does
  }
  const event = {
    version: 'v1',
    rawPath,
    headers: options.headers ?? {},
    queryParameters: options.query ?? {},
    body: options.body ?? '',
    isBase64Encoded: false,
    requestContext: { requestId: 'test', http: { method: options.method ?? 'GET', path, sourceIp: '127.0.0.1' } },
  };
  const reply = await handler(Buffer.from(JSON.stringify(event)), { requestId: 'test', function: { name: 'image', timeout: 30 } });
  const body = replyBody(reply);
  return { status: reply.statusCode, headers: reply.headers, body, text: body.toString('utf8') };
}

/** The first embedded data: image of an HTML page, decoded. */
export function embeddedImage(html: string): { mime: string; data: Buffer } {
  const match = /<img class="result"[^>]* src="data:(image\/[a-z]+);base64,([^"]+)"/.exec(html);
  if (!match) throw new Error('no embedded result image in the page');
  return { mime: match[1], data: Buffer.from(match[2], 'base64') };
}
