/**
 * A generated website on 127.0.0.1 for crawler tests and benchmarks, with the hostile parts a crawler meets:
 * cycles, relative links, <base href>, fragments, redirects (one a loop, one into /private/), 404s, a 500 that
 * succeeds on retry, a response slower than the timeout, a huge page, non-HTML links, one image under two URLs,
 * images below the cutoff, a non-image served as image/png, a robots.txt that disallows /private/, and links to
 * another host; and the places a modern page puts images (/modern.html: `<picture><source>`, lazy-loading attributes
 * over placeholders, og:image, `<link rel="image_src">`) and the links a polite crawler does not follow
 * (`rel="nofollow"`, `<meta name="robots" content="nofollow">` on /nofollow.html).
 *
 * `expectedImages` holds the sha256 of every image a correct crawl saves (with the default 10 KB cutoff).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface SiteOptions {
  /** Pages in the generated tree (page i links to 2i+1 and 2i+2, and back home). */
  pages?: number;
  /** Distinct images per page, each above the cutoff. */
  imagesPerPage?: number;
  /** Include the hostile feature pages (default true). */
  features?: boolean;
  /** How long /slow.html takes to answer, ms. */
  slowMs?: number;
  /** Size of /huge.html, bytes. */
  hugeBytes?: number;
  /** Extra HTML for the home page (e.g. links to addresses that must be refused). */
  homeExtra?: string;
  /** The first this many robots.txt requests answer 503 (the host is then unavailable to the crawler). */
  robotsFailures?: number;
  /** Delay before every answer, ms (a slower site keeps a crawl busy for longer). */
  latencyMs?: number;
  /** Where /redirect/elsewhere points (e.g. a metadata address), if anywhere. */
  redirectElsewhere?: string;
  /** Tree page i also links to page i+1, so pages link to pages that may be loading at that moment. */
  siblingLinks?: boolean;
  /** Children per tree page (default 2): page i links to fanOut*i+1 … fanOut*i+fanOut. */
  fanOut?: number;
  /** Feature paths left out of the home page (e.g. '/slow.html', which no run can ever fetch). */
  skipFeatures?: string[];
  /** The first this many requests for the home page answer 503 with `Retry-After: retryAfterSeconds`. */
  homeFailures?: number;
  retryAfterSeconds?: number;
  /** The first this many requests for /img/p0-0.png answer 503. */
  imageFailures?: number;
  /** Extra pages: path -> HTML body (each linked from nowhere unless homeExtra links it). */
  extraPages?: Record<string, string>;
  /** A gallery at /gallery.html, linked from the home page: this many images, each answered after delayMs. */
  gallery?: { images: number; delayMs: number };
  /** A link bomb under a 1,500-character path, linked from the home page: ~289 KB of `<a href="?N">`, every ?N page the same. */
  linkBomb?: boolean;
  /** Robots.txt requests get no answer (the connection is reset). */
  robotsUnreachable?: boolean;
  /** Answers a path before the site does (robots.txt with Crawl-delay, sitemaps, a 503 burst); undefined passes. */
  override?: (path: string) => OverrideAnswer | undefined;
}

export interface OverrideAnswer {
  status: number;
  type?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

export interface LoggedRequest {
  /** Date.now() when the request arrived. */
  at: number;
  host: string;
  path: string;
}

/** The path of the link bomb page (1,500 characters). */
export const LINK_BOMB_PATH = '/bomb/' + 'b'.repeat(1494);
const LINK_BOMB_LINKS = 12_000;

export interface TestSite {
  origin: string;
  url: string;
  port: number;
  /** sha256 of each image a correct crawl saves. */
  expectedImages: Set<string>;
  /** Every request as "host path", in arrival order. */
  requests: string[];
  /** Every request with its arrival time, for spacing checks; cleared by the tests that read it. */
  requestLog: LoggedRequest[];
  /** URLs of the pages reachable from the home page in the tree (without the feature pages). */
  pageCount: number;
  /** Called with each request's path before it is answered (a test may kill a crawler here). */
  onRequest: ((path: string) => void) | null;
  close(): Promise<void>;
}

/** A deterministic noise PNG: incompressible, so its size is about w*h*3 bytes. */
export async function noisePng(seed: number, size = 72): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  return sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The modern page's images, and whether a correct crawl saves them (with respectRobots on): the largest candidate
 * of each storable `<source>` and not the SVG one, the real image behind each lazy placeholder, og:image and
 * image_src; an image on a nofollow page is saved, the images on the pages behind nofollow links are not.
 */
const MODERN_IMAGES: [string, boolean][] = [
  ['/img/picture-webp-large.png', true],
  ['/img/picture-webp-small.png', false],
  ['/img/picture-fallback.png', true],
  ['/img/lazy-data-src.png', true],
  ['/img/lazy-data-srcset-large.png', true],
  ['/img/lazy-data-srcset-small.png', false],
  ['/img/lazy-data-lazy-src.png', true],
  ['/img/lazy-data-original.png', true],
  ['/img/og.png', true],
  ['/img/image-src.png', true],
  ['/img/on-nofollow-page.png', true],
  ['/img/behind-rel-nofollow.png', false],
  ['/img/behind-meta-nofollow.png', false],
];

/** A 1×1 transparent GIF, the usual lazy-loading placeholder. A crawl must not even fetch it. */
const SPACER_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const MODERN_PAGE = `<picture>
  <source type="image/svg+xml" srcset="/img/vector.svg">
  <source type="image/webp" srcset="/img/picture-webp-small.png 480w, /img/picture-webp-large.png 1200w">
  <img src="/img/picture-fallback.png" alt="picture">
</picture>
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" data-src="/img/lazy-data-src.png">
<img src="/img/spacer.gif" data-srcset="/img/lazy-data-srcset-small.png 1x, /img/lazy-data-srcset-large.png 2x">
<img src="" data-lazy-src="/img/lazy-data-lazy-src.png">
<img data-original="/img/lazy-data-original.png">
<a href="/nofollow.html">a page that asks not to be followed</a>
<a rel="external nofollow" href="/behind-rel-nofollow.html">nofollow link</a>`;

const MODERN_HEAD = '<meta property="og:image" content="/img/og.png"><link rel="image_src" href="/img/image-src.png">';

function html(title: string, body: string, head = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head><body><h1>${title}</h1>${body}</body></html>`;
}

export async function startTestSite(options: SiteOptions = {}): Promise<TestSite> {
  const pages = options.pages ?? 15;
  const perPage = options.imagesPerPage ?? 2;
  const features = options.features ?? true;
  const slowMs = options.slowMs ?? 3000;
  const hugeBytes = options.hugeBytes ?? 3 * 1024 * 1024;

  const images = new Map<string, Buffer>();
  const expected = new Set<string>();
  const addImage = async (path: string, data: Buffer, wanted: boolean) => {
    images.set(path, data);
    if (wanted) expected.add(sha256(data));
  };
  for (let i = 0; i < pages; i++) for (let j = 0; j < perPage; j++) await addImage(`/img/p${i}-${j}.png`, await noisePng(i * 100 + j + 1), true);
  if (options.gallery) {
    for (let j = 0; j < options.gallery.images; j++) await addImage(`/gallery/${j}.png`, await noisePng(500_000 + j), true);
  }
  if (features) {
    const shared = await noisePng(999_001);
    await addImage('/img/shared.png', shared, true);
    await addImage('/alias/same-as-shared.png', shared, true);
    await addImage('/img/small.png', await noisePng(999_002, 8), false);
    await addImage('/img/srcset-small.png', await noisePng(999_003, 60), false);
    await addImage('/img/srcset-large.png', await noisePng(999_004, 90), true);
    await addImage('/img/on-flaky.png', await noisePng(999_005), true);
    await addImage('/img/on-redirected.png', await noisePng(999_006), true);
    await addImage('/img/on-base.png', await noisePng(999_007), true);
    await addImage('/private/secret.png', await noisePng(999_008), false);
    await addImage('/img/on-slow.png', await noisePng(999_009), false);
    // Linked with <a href>, not <img>, and served without an image Content-Type: an image by its bytes alone.
    await addImage('/photos/full-size', await noisePng(999_010), true);
    await addImage('/img/old.bmp', bmp(), false);
    for (const [k, [path, wanted]] of MODERN_IMAGES.entries()) await addImage(path, await noisePng(999_100 + k), wanted);
    images.set('/img/spacer.gif', SPACER_GIF);
  }

  const requests: string[] = [];
  const requestLog: LoggedRequest[] = [];
  let flakyFailures = 0;
  let robotsFailures = options.robotsFailures ?? 0;
  let homeFailures = options.homeFailures ?? 0;
  let imageFailures = options.imageFailures ?? 0;
  const fanOut = options.fanOut ?? 2;
  let origin = '';

  const treePage = (i: number) => {
    const children = [...Array.from({ length: fanOut }, (_, k) => fanOut * i + k + 1), ...(options.siblingLinks ? [i + 1] : [])].filter((c) => c < pages);
    const links = children.map((c) => `<a href="${c}.html">page ${c}</a> <a href="/page/${c}.html#section">again with a fragment</a>`).join(' ');
    const imgs = Array.from({ length: perPage }, (_, j) => `<img src="/img/p${i}-${j}.png" alt="">`).join('');
    const extra = features && i === 1 ? '<img src="/img/shared.png"><img src="../alias/same-as-shared.png">' : '';
    return html(`page ${i}`, `${links}${imgs}${extra}<a href="/">home</a><a href="#top">top</a>`);
  };

  const home = () => {
    const featureLinks = features
      ? [
          '/redirect/to-redirected',
          '/redirect/into-private',
          '/redirect-loop/a',
          '/missing.html',
          '/flaky.html',
          '/slow.html',
          '/huge.html',
          '/files/report.pdf',
          '/private/secret.html',
          '/base/index.html',
          '/modern.html',
          `${origin.replace('127.0.0.1', 'localhost')}/page/0.html`,
          'mailto:someone@example.com',
          'javascript:void(0)',
          '/photos/full-size',
        ]
          .filter((href) => !options.skipFeatures?.includes(href))
          .map((href) => `<a href="${href}">${href}</a>`)
          .join(' ') + '<img src="/img/small.png"><img src="/fake.png"><img srcset="/img/srcset-small.png 60w, /img/srcset-large.png 90w"><img src="/img/old.bmp">'
      : '';
    const galleryLink = options.gallery ? '<a href="/gallery.html">gallery</a>' : '';
    const bombLink = options.linkBomb ? `<a href="${LINK_BOMB_PATH}">bomb</a>` : '';
    return html('home', `${galleryLink}${bombLink}<a href="/page/0.html">start</a> ${featureLinks} ${features ? '<img src="/img/shared.png">' : ''}${options.homeExtra ?? ''}`);
  };

  const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(`${req.headers.host} ${path}`);
    const send = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(body);
    };
    site.onRequest?.(path);
    const overridden = options.override?.(path);
    if (overridden) return send(overridden.status, overridden.type ?? 'text/plain', overridden.body ?? '', overridden.headers);
    const page = /^\/page\/(\d+)\.html$/.exec(path);
    if (path === '/' && homeFailures-- > 0) return send(503, 'text/plain', 'busy', { 'retry-after': String(options.retryAfterSeconds ?? 120) });
    if (path === '/' || path === '/index.html') return send(200, 'text/html; charset=utf-8', home());
    if (path === '/robots.txt' && options.robotsUnreachable) return req.socket.destroy();
    if (path === '/img/p0-0.png' && imageFailures-- > 0) return send(503, 'text/plain', 'busy');
    if (options.extraPages?.[path]) return send(200, 'text/html', html(path, options.extraPages[path]));
    if (path === '/gallery.html' && options.gallery) {
      return send(200, 'text/html', html('gallery', Array.from({ length: options.gallery.images }, (_, j) => `<img src="/gallery/${j}.png">`).join('')));
    }
    if (path.startsWith('/gallery/') && options.gallery && images.has(path)) {
      const timer = setTimeout(() => send(200, 'image/png', images.get(path)!), options.gallery.delayMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (path === LINK_BOMB_PATH && options.linkBomb) {
      return send(200, 'text/html', html('bomb', Array.from({ length: LINK_BOMB_LINKS }, (_, n) => `<a href="?${n}">${n}</a>`).join('')));
    }
    if (page && Number(page[1]) < pages) return send(200, 'text/html', treePage(Number(page[1])));
    if (path === '/redirect/elsewhere' && options.redirectElsewhere) return send(302, 'text/plain', '', { location: options.redirectElsewhere });
    const image = images.get(path);
    if (image) return send(200, path.startsWith('/photos/') ? 'application/octet-stream' : 'image/png', image);
    if (!features) return send(404, 'text/plain', 'not found');
    switch (path) {
      case '/robots.txt':
        if (robotsFailures-- > 0) return send(503, 'text/plain', 'busy');
        return send(200, 'text/plain', 'User-agent: *\nDisallow: /private/\n');
      case '/redirect/to-redirected':
        return send(302, 'text/plain', '', { location: '/redirected.html' });
      case '/redirected.html':
        return send(200, 'text/html', html('redirected', '<img src="/img/on-redirected.png"><a href="/page/2.html">2</a>'));
      case '/redirect/into-private':
        return send(302, 'text/plain', '', { location: '/private/secret.html' });
      case '/redirect-loop/a':
        return send(302, 'text/plain', '', { location: '/redirect-loop/b' });
      case '/redirect-loop/b':
        return send(301, 'text/plain', '', { location: '/redirect-loop/a' });
      case '/flaky.html':
        if (flakyFailures++ === 0) return send(500, 'text/plain', 'try again');
        return send(200, 'text/html', html('flaky', '<img src="/img/on-flaky.png">'));
      case '/slow.html': {
        const timer = setTimeout(() => send(200, 'text/html', html('slow', '<img src="/img/on-slow.png">')), slowMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case '/huge.html':
        return send(200, 'text/html', html('huge', 'x'.repeat(hugeBytes)));
      case '/files/report.pdf':
        return send(200, 'application/pdf', '%PDF-1.4 not really');
      case '/fake.png':
        return send(200, 'image/png', html('not an image', 'x'.repeat(20_000)));
      case '/private/secret.html':
        return send(200, 'text/html', html('secret', '<img src="/private/secret.png">'));
      case '/modern.html':
        return send(200, 'text/html', html('modern', MODERN_PAGE, MODERN_HEAD));
      case '/nofollow.html':
        return send(200, 'text/html', html('nofollow', '<img src="/img/on-nofollow-page.png"><a href="/behind-meta-nofollow.html">not followed</a>', '<meta name="robots" content="noindex, nofollow">'));
      case '/behind-meta-nofollow.html':
        return send(200, 'text/html', html('behind meta nofollow', '<img src="/img/behind-meta-nofollow.png">'));
      case '/behind-rel-nofollow.html':
        return send(200, 'text/html', html('behind rel nofollow', '<img src="/img/behind-rel-nofollow.png">'));
      case '/base/index.html':
        return send(200, 'text/html', html('base', '<a href="4.html">4 via base</a><img src="../img/on-base.png">', '<base href="/page/">'));
      default:
        return send(404, 'text/html', html('not found', ''));
    }
  };
  const site = { onRequest: null as ((path: string) => void) | null };
  const server = http.createServer((req, res) => {
    requestLog.push({ at: Date.now(), host: req.headers.host ?? '', path: (req.url ?? '/').split('?')[0] });
    if (!options.latencyMs) return answer(req, res);
    const timer = setTimeout(() => answer(req, res), options.latencyMs);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return Object.assign(site, {
    origin,
    url: `${origin}/`,
    port,
    expectedImages: expected,
    requests,
    requestLog,
    pageCount: pages,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** A small valid BMP (24-bit, 64x64): a format the installed sharp cannot decode. */
function bmp(): Buffer {
  const width = 64;
  const height = 64;
  const row = width * 3;
  const data = Buffer.alloc(row * height, 0x7f);
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + data.length, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(data.length, 34);
  return Buffer.concat([header, data]);
}
