/**
 * The NAS the image fuzzer attacks: good photos, files that only pretend to be images, hostile images, symlinks
 * that point out of the root, and a canary file with a random token just outside the root.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { PHOTOS } from './paths';

export interface FuzzNas {
  /** The NAS root handed to the image service. */
  root: string;
  canaryToken: string;
  /** Paths below the root (with a leading slash) of files that are not images, or hostile ones. */
  badFiles: string[];
  /** Paths below the root of symlinks that lead out of it. */
  escapingLinks: string[];
  goodImages: string[];
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG of the given header and raw (filtered) scanlines; the header may lie about the size. */
function png(width: number, height: number, bitDepth: number, colourType: number, scanlines: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(bitDepth, 8);
  ihdr.writeUInt8(colourType, 9);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(scanlines, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** 20000 x 20000 one-bit pixels (400 megapixels, 50 MB of scanlines) deflated to about 50 KB. */
function decompressionBomb(): Buffer {
  const side = 20_000;
  return png(side, side, 1, 0, Buffer.alloc((side / 8 + 1) * side));
}

async function animatedGif(): Promise<Buffer> {
  const frames = await Promise.all(['red', 'green', 'blue'].map((background) => sharp({ create: { width: 64, height: 64, channels: 3, background } }).png().toBuffer()));
  return sharp(frames, { join: { animated: true } }).gif().toBuffer();
}

export async function buildFuzzNas(base: string): Promise<FuzzNas> {
  const root = path.join(base, 'nas');
  const canaryToken = `CANARY-${randomBytes(16).toString('hex')}`;
  const canaryPng = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#f0f' } }).png().toBuffer();
  fs.mkdirSync(path.join(base, 'outside'), { recursive: true });
  fs.writeFileSync(path.join(base, 'canary.txt'), canaryToken + '\n');
  fs.writeFileSync(path.join(base, 'canary.png'), Buffer.concat([canaryPng, Buffer.from(canaryToken)]));
  fs.writeFileSync(path.join(base, 'outside', 'canary.png'), Buffer.concat([canaryPng, Buffer.from(canaryToken)]));
  for (const dir of ['img', 'bad', 'links', 'bad/dir.png']) fs.mkdirSync(path.join(root, dir), { recursive: true });

  const goodImages = ['astronaut.png', 'camera.png', 'coffee.png'].map((name) => {
    fs.copyFileSync(path.join(PHOTOS, name), path.join(root, 'img', name));
    return `/img/${name}`;
  });
  const astronaut = fs.readFileSync(path.join(PHOTOS, 'astronaut.png'));
  const jpeg = await sharp(astronaut).jpeg().toBuffer();
  const bad: Record<string, Buffer | string> = {
    'zero.png': Buffer.alloc(0),
    'zero.jpg': Buffer.alloc(0),
    'truncated.png': astronaut.subarray(0, astronaut.length >> 1),
    'truncated.jpg': jpeg.subarray(0, jpeg.length >> 1),
    'header-only.png': astronaut.subarray(0, 33),
    'text.png': 'this is not an image\n',
    'html.jpg': '<html><script>alert(1)</script></html>',
    'random.webp': randomBytes(4096),
    'random.gif': Buffer.concat([Buffer.from('GIF89a'), randomBytes(2048)]),
    'bomb.png': decompressionBomb(),
    'declared-huge.png': png(100_000, 100_000, 8, 2, Buffer.alloc(16)),
    'xxe.svg': `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY leak SYSTEM "file://${base}/canary.txt">]><svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><text y="20">&leak;</text></svg>`,
    'external.svg': `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image href="file://${base}/canary.png" width="64" height="64"/><image xlink:href="http://127.0.0.1:9/x.png" width="8" height="8"/><image href="../../canary.png" width="8" height="8"/></svg>`,
    'animated.gif': await animatedGif(),
  };
  for (const [name, data] of Object.entries(bad)) fs.writeFileSync(path.join(root, 'bad', name), data);

  const links: Record<string, string> = {
    'out.png': path.join(base, 'canary.png'),
    'rel.png': '../../canary.png',
    'text.png': '../../canary.txt',
    'passwd.png': '/etc/passwd',
    dir: '../../outside',
  };
  for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(root, 'links', name));
  fs.symlinkSync('../../canary.png', path.join(root, 'img', 'escape.png'));

  return {
    root,
    canaryToken,
    badFiles: [...Object.keys(bad).map((n) => `/bad/${n}`), '/bad/dir.png', '/bad/missing.png', '/', '/img/', '/img'],
    escapingLinks: [...['out.png', 'rel.png', 'text.png', 'passwd.png', 'dir/canary.png'].map((n) => `/links/${n}`), '/img/escape.png', '/links/dir'],
    goodImages,
  };
}
