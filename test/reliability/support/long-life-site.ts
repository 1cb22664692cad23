/**
 * The site the long-life test crawls for thousands of invocations. Besides a tree of ordinary pages it has, over
 * time: transient 503/429 answers with Retry-After (some URLs fail their first requests; and every 500th request
 * starts a burst that fails the next distinct URLs once each), a slow gallery page whose images cannot all be
 * fetched in one run, a poison page that kills the process visiting it (the test kills the worker named in the
 * request's User-Agent), and a link bomb at the depth limit. Each URL fails transiently at most 4 times in all,
 * so a crawler that keeps transient failures waiting for `maxAttempts` (5) runs must end with the whole truth.
 */
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { startSiteServer, type SiteServer } from './site-server';

export const FANOUT = 7;
export const MAX_DEPTH = 5;
const GALLERY_IMAGES = 24;
const GALLERY_DELAY_MS = 500;
const BURST_EVERY = 500;
const BURST_URLS = 8;

export interface LongLifeSite extends SiteServer {
  seed: string;
  /** Every page reachable within the rules (scope, maxDepth), as absolute URLs. */
  reachablePages: string[];
  poisonPage: string;
  /** sha256 of every image that a complete crawl saves (the poison page's images are never seen). */
  expectedImages: Set<string>;
  /** Requests answered 503 or 429 on purpose. */
  transientFailures: () => number;
}

interface SiteImage {
  path: string;
  data: Buffer;
}

async function noise(path: string, size: number): Promise<SiteImage> {
  const data = await sharp(randomBytes(size * size * 3), { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
  return { path, data };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** `onPoison(userAgent)` is called when the poison page is requested; its response never completes. */
export async function startLongLifeSite(options: { pages: number; images: number; onPoison: (userAgent: string) => void }): Promise<LongLifeSite> {
  const pool = await Promise.all(Array.from({ length: options.images }, (_, i) => noise(`/media/${i}.png`, 40)));
  const gallery = await Promise.all(Array.from({ length: GALLERY_IMAGES }, (_, i) => noise(`/gallery/${i}.png`, 40)));
  const images = new Map([...pool, ...gallery].map((img) => [img.path, img]));
  const depth = (i: number): number => (i === 0 ? 0 : 1 + depth(Math.floor((i - 1) / FANOUT)));
  const children = (i: number) => Array.from({ length: FANOUT }, (_, k) => FANOUT * i + k + 1).filter((c) => c < options.pages);
  // The link bomb hangs below the first page at depth MAX_DEPTH - 1, so its own links lie past the limit.
  const bombParent = Array.from({ length: options.pages }, (_, i) => i).find((i) => depth(i) === MAX_DEPTH - 1);
  if (bombParent === undefined) throw new Error(`a site of ${options.pages} pages is too shallow for the link bomb`);
  const pageImages = (i: number) => [pool[(i * 7) % pool.length], pool[(i * 11 + 3) % pool.length]];

  const page = (title: string, links: string[], imgs: string[]) =>
    `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>\n${imgs.map((src) => `<img src="${src}" alt="">`).join('\n')}\n<ul>${links.map((l, n) => `<li><a href="${l}">link ${n}</a></li>`).join('')}</ul></body></html>`;
  const treePage = (i: number) => {
    // The gallery and the poison page hang last under the seed: a depth-first crawl meets them once the tree is done.
    const extra = i === 0 ? ['/gallery.html', '/poison.html'] : i === bombParent ? ['/bomb.html'] : [];
    const up = i > 0 ? [`/p/${Math.floor((i - 1) / FANOUT)}.html`, '/p/0.html'] : [];
    return page(`page ${i}`, [...children(i).map((c) => `/p/${c}.html`), ...extra, ...up], pageImages(i).map((img) => img.path));
  };
  const bomb = () => {
    const long = Array.from({ length: 1200 }, (_, n) => `/bomb/${n}?q=${'x'.repeat(2500)}`);
    const short = Array.from({ length: 6000 }, (_, n) => `/bomb/${n}.html`);
    return page('link bomb', [...long, ...short], []);
  };

  // Transient failures: URLs whose hash puts them in the flaky tenth fail their first 3 requests; bursts fail
  // up to BURST_URLS distinct URLs once each. A URL is hit by at most one burst.
  const requestsPer = new Map<string, number>();
  const burstHit = new Set<string>();
  let requests = 0;
  let burstLeft = 0;
  let failures = 0;
  const flaky = (path: string) => parseInt(sha256(Buffer.from(path)).slice(0, 4), 16) % 10 === 0;

  const server = await startSiteServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    if (path === '/robots.txt') {
      res.writeHead(404).end();
      return;
    }
    requests++;
    if (requests % BURST_EVERY === 0) burstLeft = BURST_URLS;
    const seen = (requestsPer.get(url) ?? 0) + 1;
    requestsPer.set(url, seen);
    const transient = (flaky(path) && seen <= 3) || (burstLeft > 0 && !burstHit.has(url) && (burstHit.add(url), burstLeft--, true));
    if (transient && path !== '/poison.html') {
      failures++;
      const status = failures % 2 ? 503 : 429;
      res.writeHead(status, { 'retry-after': '1', 'content-type': 'text/plain' }).end(status === 503 ? 'busy' : 'slow down');
      return;
    }
    const send = (type: string, body: string | Buffer) => res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
    const tree = /^\/p\/(\d+)\.html$/.exec(path);
    const image = images.get(path);
    if (tree && Number(tree[1]) < options.pages) send('text/html; charset=utf-8', treePage(Number(tree[1])));
    else if (path === '/gallery.html') send('text/html; charset=utf-8', page('gallery', ['/p/0.html'], gallery.map((img) => img.path)));
    else if (path === '/bomb.html') send('text/html; charset=utf-8', bomb());
    else if (path === '/poison.html') options.onPoison(String(req.headers['user-agent'] ?? ''));
    else if (image && path.startsWith('/gallery/')) setTimeout(() => send('image/png', image.data), GALLERY_DELAY_MS);
    else if (image) send('image/png', image.data);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });

  const treeUrls = Array.from({ length: options.pages }, (_, i) => `${server.url}/p/${i}.html`);
  const usedPool = new Set(Array.from({ length: options.pages }, (_, i) => pageImages(i)).flat());
  return {
    ...server,
    seed: `${server.url}/p/0.html`,
    reachablePages: [...treeUrls, `${server.url}/gallery.html`, `${server.url}/poison.html`, `${server.url}/bomb.html`],
    poisonPage: `${server.url}/poison.html`,
    expectedImages: new Set([...usedPool, ...gallery].map((img) => sha256(img.data))),
    transientFailures: () => failures,
  };
}
