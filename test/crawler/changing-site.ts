/**
 * A generated site on 127.0.0.1 that changes between crawls, for the revisit tests and bench/revisits.ts: pages
 * in a tree (page i links to its children and back home), images spread over them, and calls that add an image
 * to a page, take one away, add a page, or give an image new content. Each page carries a line that changes on
 * every request (a timestamp, as real pages do), which must not count as a change.
 *
 * With `validators` the server sends an ETag and a Last-Modified per page and image version and answers a
 * matching conditional GET with 304; without, every GET gets the whole body. Every request is logged with its
 * status and the body bytes sent.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { noisePng } from './site';

export interface ChangingSiteOptions {
  pages: number;
  /** Images in all; image j is on page j mod pages. */
  images: number;
  fanOut?: number;
  /** ETag and Last-Modified, and 304 for a matching conditional GET (default true). */
  validators?: boolean;
  /** Serve /sitemap.xml listing every page, with the `<lastmod>` set by setLastmod. */
  sitemap?: boolean;
}

export interface LoggedExchange {
  path: string;
  status: number;
  bytes: number;
  conditional: boolean;
}

interface Page {
  children: number[];
  images: string[];
  /** Bumped by every change; the ETag and Last-Modified follow it. */
  version: number;
  modifiedAt: number;
}

export interface ChangingSite {
  url: string;
  origin: string;
  log: LoggedExchange[];
  /** Body bytes sent since the site started. */
  bytesSent(): number;
  pagePath(i: number): string;
  pageCount(): number;
  imagesOn(page: number): string[];
  /** Adds an image to page `page` (a new one, or `src`); returns its path. */
  addImage(page: number, src?: string): string;
  /** Takes image `src` off page `page`. */
  removeImage(page: number, src: string): void;
  /** Adds a page linked from page `from`; returns its number. */
  addPage(from: number, images?: number): number;
  /** Serves new bytes under an existing image path. */
  changeImage(src: string): void;
  /** The `<lastmod>` the sitemap gives page `page`. */
  setLastmod(page: number, lastmod: string): void;
  /** While true, every request (robots.txt too) gets a 503: the site is down. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const sha = (text: string) => createHash('sha1').update(text).digest('hex').slice(0, 16);

export async function startChangingSite(options: ChangingSiteOptions): Promise<ChangingSite> {
  const fanOut = options.fanOut ?? 3;
  const validators = options.validators ?? true;
  const pages: Page[] = [];
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < options.pages; i++) {
    const children = Array.from({ length: fanOut }, (_, k) => fanOut * i + k + 1).filter((c) => c < options.pages);
    pages.push({ children, images: [], version: 1, modifiedAt: start });
  }
  for (let j = 0; j < options.images; j++) pages[j % options.pages].images.push(`/img/${j}.png`);
  let nextImage = options.images;
  const imageVersions = new Map<string, number>();
  const imageBytes = new Map<string, Buffer>();
  const lastmod = new Map<number, string>();
  let down = false;
  const log: LoggedExchange[] = [];
  let sent = 0;

  const pagePath = (i: number) => (i === 0 ? '/' : `/p/${i}.html`);
  const touch = (page: Page) => {
    page.version++;
    page.modifiedAt += 1000 + page.version * 1000;
  };
  const pageHtml = (i: number) => {
    const page = pages[i];
    const links = page.children.map((c) => `<li><a href="${pagePath(c)}">page ${c}</a></li>`).join('');
    const images = page.images.map((src) => `<img src="${src}" alt="">`).join('');
    return `<!doctype html><html><head><meta charset="utf-8"><title>page ${i}</title></head><body><h1>page ${i}</h1><p>served at ${new Date().toISOString()}</p><ul>${links}</ul>${images}<p><a href="/">home</a></p></body></html>`;
  };
  const imageBody = async (src: string): Promise<Buffer> => {
    const version = imageVersions.get(src) ?? 1;
    const key = `${src}#${version}`;
    let body = imageBytes.get(key);
    if (!body) {
      body = await noisePng(Number(/\d+/.exec(src)![0]) * 7919 + version);
      imageBytes.set(key, body);
    }
    return body;
  };

  let origin = '';
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
    const answer = (status: number, type: string, body: Buffer | string, version?: { tag: string; modifiedAt: number }) => {
      const headers: Record<string, string> = { 'content-type': type };
      if (validators && version) {
        headers.etag = `"${version.tag}"`;
        headers['last-modified'] = new Date(version.modifiedAt).toUTCString();
        const etagMatch = req.headers['if-none-match'] === headers.etag;
        const since = req.headers['if-modified-since'] ? Date.parse(req.headers['if-modified-since']) : NaN;
        const notModified = req.headers['if-none-match'] !== undefined ? etagMatch : Number.isFinite(since) && version.modifiedAt <= since;
        if (status === 200 && notModified) {
          log.push({ path, status: 304, bytes: 0, conditional });
          res.writeHead(304, headers).end();
          return;
        }
      }
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
      sent += bytes.length;
      log.push({ path, status, bytes: bytes.length, conditional });
      res.writeHead(status, { ...headers, 'content-length': String(bytes.length) }).end(bytes);
    };
    if (down) return answer(503, 'text/plain', 'down for maintenance');
    if (path === '/robots.txt') return answer(200, 'text/plain', 'User-agent: *\nDisallow:\n');
    if (path === '/sitemap.xml' && options.sitemap) {
      const urls = pages.map((_, i) => `<url><loc>${origin}${pagePath(i)}</loc>${lastmod.has(i) ? `<lastmod>${lastmod.get(i)}</lastmod>` : ''}</url>`);
      return answer(200, 'application/xml', `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls.join('')}</urlset>`);
    }
    const pageMatch = path === '/' ? 0 : /^\/p\/(\d+)\.html$/.exec(path) ? Number(/^\/p\/(\d+)\.html$/.exec(path)![1]) : -1;
    if (pageMatch >= 0 && pageMatch < pages.length) {
      const page = pages[pageMatch];
      return answer(200, 'text/html; charset=utf-8', pageHtml(pageMatch), { tag: sha(`${pageMatch}/${page.version}`), modifiedAt: page.modifiedAt });
    }
    if (/^\/img\/\d+\.png$/.test(path) && (imageVersions.has(path) || pages.some((p) => p.images.includes(path)))) {
      const version = imageVersions.get(path) ?? 1;
      void imageBody(path).then((body) => answer(200, 'image/png', body, { tag: sha(`${path}/${version}`), modifiedAt: start + version * 1000 }));
      return;
    }
    answer(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    log,
    bytesSent: () => sent,
    pagePath,
    pageCount: () => pages.length,
    imagesOn: (i) => [...pages[i].images],
    addImage(i, existing) {
      const src = existing ?? `/img/${nextImage++}.png`;
      pages[i].images.push(src);
      touch(pages[i]);
      return src;
    },
    removeImage(i, src) {
      pages[i].images = pages[i].images.filter((s) => s !== src);
      touch(pages[i]);
    },
    addPage(from, images = 0) {
      const i = pages.length;
      pages.push({ children: [], images: [], version: 1, modifiedAt: start });
      for (let k = 0; k < images; k++) pages[i].images.push(`/img/${nextImage++}.png`);
      pages[from].children.push(i);
      touch(pages[from]);
      return i;
    },
    changeImage(src) {
      imageVersions.set(src, (imageVersions.get(src) ?? 1) + 1);
    },
    setLastmod: (i, value) => lastmod.set(i, value),
    setDown: (value) => (down = value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
