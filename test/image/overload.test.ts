/**
 * Overload and response limits. A burst of 64 concurrent 12 MP rotations against one `serve` process (V8 heap
 * capped as on a 1 GB FC instance, RSS sampled from /proc) gets 200s and 503s with Retry-After, never a crash;
 * and a 40 MP PNG graphic whose result passes the response cap gets a preview page, and 413 as raw bytes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { request } from 'undici';
import { handleImageRequest } from '../../src/image/handler';
import { DEFAULT_LIMITS, imageLimitsFromEnv } from '../../src/image/limits';
import { createLogger } from '../../src/log';
import { embeddedImage, PHOTOS, tempNas } from './nas-fixture';
import { startServe } from './support/serve';

const MiB = 1024 * 1024;

function rssMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

describe('overload and response limits', () => {
  it('64 concurrent 12 MP rotations: each gets 200 or 503 with Retry-After, no crash, RSS under 900 MB', async (t) => {
    const nas = await tempNas();
    const server = await (async () => {
      await mkdir(path.join(nas.root, 'img'));
      const photo = await sharp(path.join(PHOTOS, 'astronaut.png')).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
      await writeFile(path.join(nas.root, 'img', '12mp.jpg'), photo);
      return startServe(nas.root, { nodeArgs: ['--max-old-space-size=512'], env: { IMAGE_MAX_CONCURRENT_RENDERS: '2', IMAGE_RENDER_QUEUE: '6' } });
    })();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(server.child.pid!))), 20);
    try {
      // Distinct angles: 64 different results, so neither cache nor single flight can absorb the burst.
      const replies = await Promise.all(
        Array.from({ length: 64 }, async (_, i) => {
          const res = await request(`${server.url}img/12mp.jpg?action=rotate&angle=${33 + i / 100}`, { headers: { accept: i % 2 ? 'application/json' : 'text/html' }, headersTimeout: 600_000, bodyTimeout: 600_000 });
          const body = await res.body.text();
          return { status: res.statusCode, retryAfter: res.headers['retry-after'], type: String(res.headers['content-type']), body };
        }),
      );
      const statuses = replies.map((r) => r.status);
      assert.ok(statuses.every((s) => s === 200 || s === 503), `statuses: ${statuses.join(',')}`);
      const busy = replies.filter((r) => r.status === 503);
      assert.ok(statuses.filter((s) => s === 200).length >= 8, `the 2 slots and the queue of 6 are served: ${statuses.join(',')}`);
      assert.ok(busy.length > 0, 'the rest are turned away');
      for (const r of busy) {
        assert.match(String(r.retryAfter), /^\d+$/);
        assert.match(r.body, /too many images are being rendered/);
        assert.match(r.type, /^(application\/json|text\/html)/);
      }
      t.diagnostic(`${statuses.filter((s) => s === 200).length} × 200, ${busy.length} × 503; peak RSS ${peak.toFixed(0)} MiB`);
      assert.equal(server.child.exitCode, null, 'the server is still running');
      assert.ok(peak > 0 && peak < 900, `peak RSS ${peak.toFixed(0)} MiB`);
      const after = await request(`${server.url}img/12mp.jpg?action=rotate&angle=33&format=jpeg`);
      assert.equal(after.statusCode, 200, 'answers again once the burst is over');
      await after.body.arrayBuffer();
    } finally {
      clearInterval(sampler);
      await server.stop();
      await nas.cleanup();
    }
  });

  it('a 40 MP PNG graphic whose result passes the response cap: the page embeds a preview and links to the raw result, which is 413', async () => {
    assert.equal(DEFAULT_LIMITS.maxResponseBytes, 24 * MiB);
    assert.equal(imageLimitsFromEnv({ IMAGE_MAX_RESPONSE_MB: '8' }).maxResponseBytes, 8 * MiB);
    const nas = await tempNas();
    try {
      await mkdir(path.join(nas.root, 'img'));
      const [w, h] = [8000, 5000];
      const bars = Array.from({ length: 200 }, (_, i) => `<rect x="${i * 40}" y="${h - ((i * 137) % h)}" width="30" height="${(i * 137) % h}" fill="#${(((i * 2654435761) >>> 8) & 0xffffff).toString(16).padStart(6, '0')}"/>`).join('');
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#fff"/>${bars}</svg>`;
      await writeFile(path.join(nas.root, 'img', 'chart.png'), await sharp(Buffer.from(svg), { limitInputPixels: false }).png().toBuffer());
      // The cap is lowered so that this graphic's PNG result (well under 24 MiB) passes it.
      const limits = { ...DEFAULT_LIMITS, maxResponseBytes: 40 * 1024 };
      const logger = createLogger({}, () => undefined);
      const ask = (query: Record<string, string>) =>
        handleImageRequest({ method: 'GET', path: '/img/chart.png', rawPath: '/img/chart.png', query, headers: {}, body: Buffer.alloc(0), requestId: 't' }, { root: nas.root, logger, limits });
      const page = await ask({ action: 'show' });
      assert.equal(page.status, 200);
      const html = String(page.body);
      const preview = embeddedImage(html);
      assert.equal(preview.mime, 'image/webp');
      const meta = await sharp(preview.data).metadata();
      assert.ok(Math.max(meta.width!, meta.height!) <= 2560, `preview is ${meta.width}x${meta.height}`);
      assert.ok(Buffer.byteLength(html) < 32 * MiB);
      assert.match(html, /too large to embed/);
      assert.ok(html.includes('href="/img/chart.png?action=show&amp;raw=1"'), 'links to the raw result');
      const raw = await ask({ action: 'show', raw: '1' });
      assert.equal(raw.status, 413, `raw answer of ${(raw.body as Buffer).length} bytes`);
      assert.match(String(raw.body), /over the 40960 bytes response limit/);
    } finally {
      await nas.cleanup();
    }
  });
});
