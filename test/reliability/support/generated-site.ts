/**
 * The generated site the crash and overlap tests crawl: N pages in a 4-ary tree (with links back up, so each page
 * is linked more than once) and K distinct noise images, each over the 10 KB default cutoff and each used on
 * several pages. Its image set is known in advance as sha256 values, which is what the crawler names files by.
 */
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { startSiteServer, type SiteServer } from './site-server';

export interface GeneratedSite extends SiteServer {
  seed: string;
  pageCount: number;
  /** sha256 of every image on the site. */
  expectedImages: Set<string>;
}

interface SiteImage {
  path: string;
  type: string;
  data: Buffer;
}

async function noiseImage(index: number): Promise<SiteImage> {
  // Noise does not compress: 80x80 PNG and 128x128 JPEG are both well over the 10 KB default cutoff.
  const size = index % 3 === 0 ? 128 : 80;
  const raw = sharp(randomBytes(size * size * 3), { raw: { width: size, height: size, channels: 3 } });
  return index % 3 === 0
    ? { path: `/media/${index}.jpg`, type: 'image/jpeg', data: await raw.jpeg({ quality: 95 }).toBuffer() }
    : { path: `/media/${index}.png`, type: 'image/png', data: await raw.png().toBuffer() };
}

function pagePath(i: number): string {
  return `/p/${i}.html`;
}

function pageHtml(i: number, pages: number, images: SiteImage[], origin: string): string {
  const children = [1, 2, 3, 4].map((k) => 4 * i + k).filter((c) => c < pages);
  const links = [...children.map(pagePath), pagePath(i > 0 ? Math.floor((i - 1) / 4) : 0), pagePath(0)];
  // 7 and 11 are coprime with the image count, so every image appears on some page.
  const imgs = [images[(i * 7) % images.length], images[(i * 11 + 3) % images.length]];
  return `<!doctype html><html><head><title>page ${i}</title></head><body>
<h1>Page ${i}</h1>
${imgs.map((img, n) => `<img src="${n === 0 ? origin + img.path : img.path}" alt="image">`).join('\n')}
<ul>${links.map((l) => `<li><a href="${l}">${l}</a></li>`).join('')}</ul>
</body></html>`;
}

export async function startGeneratedSite(options: { pages: number; images: number; latencyMs?: number }): Promise<GeneratedSite> {
  const images = await Promise.all(Array.from({ length: options.images }, (_, i) => noiseImage(i)));
  const byPath = new Map(images.map((img) => [img.path, img]));
  let origin = '';
  const server = await startSiteServer((req, res) => {
    const send = () => {
      const url = req.url ?? '/';
      const page = /^\/p\/(\d+)\.html$/.exec(url);
      const image = byPath.get(url);
      if (page && Number(page[1]) < options.pages) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(pageHtml(Number(page[1]), options.pages, images, origin));
      } else if (image) {
        res.writeHead(200, { 'content-type': image.type, 'content-length': image.data.length });
        res.end(image.data);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      }
    };
    if (options.latencyMs) setTimeout(send, options.latencyMs);
    else send();
  });
  origin = server.url;
  return {
    ...server,
    seed: `${server.url}${pagePath(0)}`,
    pageCount: options.pages,
    expectedImages: new Set(images.map((img) => createHash('sha256').update(img.data).digest('hex'))),
  };
}
