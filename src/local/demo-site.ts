/**
 * The built-in demo site that `start` crawls when no seed URL is configured, so a newcomer sees the gallery fill
 * offline within a minute. Pages are generated on the fly; images are made by sharp from the bundled real photos
 * (assets/photos) plus drawn graphics: several sizes, a few below the default 10 KB cutoff, and one duplicate.
 */
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { checkoutRoot } from '../deploy/checkout';

const PHOTOS = path.join(checkoutRoot(), 'assets/photos');
const SECTIONS = ['portraits', 'still-life', 'animals', 'patterns', 'charts', 'misc'];
const PAGES_PER_SECTION = 5;

interface DemoImage {
  name: string;
  type: string;
  data: Buffer;
}

function graphicSvg(seed: number, size: number): Buffer {
  const hue = (seed * 47) % 360;
  const shapes = Array.from({ length: 6 }, (_, i) => {
    const r = size / (4 + i);
    const x = (size * ((seed * (i + 3)) % 7)) / 7 + r / 2;
    const y = (size * ((seed * (i + 5)) % 5)) / 5 + r / 2;
    return `<circle cx="${x.toFixed(0)}" cy="${y.toFixed(0)}" r="${r.toFixed(0)}" fill="hsl(${(hue + i * 40) % 360},70%,55%)" stroke="#222" stroke-width="3"/>`;
  }).join('');
  const bars = Array.from({ length: 8 }, (_, i) => {
    const h = ((seed * (i + 1) * 13) % 70) + 10;
    return `<rect x="${(i * size) / 8 + 4}" y="${size - (h * size) / 100}" width="${size / 8 - 8}" height="${(h * size) / 100}" fill="hsl(${hue},50%,35%)"/>`;
  }).join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="#fafafa"/>${bars}${shapes}</svg>`);
}

async function makeImages(): Promise<DemoImage[]> {
  const photo = (file: string) => sharp(path.join(PHOTOS, file));
  const jobs: Array<Promise<DemoImage>> = [
    photo('astronaut.png').png().toBuffer().then((data) => ({ name: 'astronaut.png', type: 'image/png', data })),
    photo('astronaut.png').resize(900).jpeg({ quality: 88 }).toBuffer().then((data) => ({ name: 'astronaut-large.jpg', type: 'image/jpeg', data })),
    photo('camera.png').jpeg({ quality: 90 }).toBuffer().then((data) => ({ name: 'cameraman.jpg', type: 'image/jpeg', data })),
    photo('coffee.png').jpeg({ quality: 85 }).toBuffer().then((data) => ({ name: 'coffee.jpg', type: 'image/jpeg', data })),
    photo('coffee.png').resize(1600).webp({ quality: 80 }).toBuffer().then((data) => ({ name: 'coffee-wide.webp', type: 'image/webp', data })),
    photo('chelsea.png').jpeg({ quality: 85 }).toBuffer().then((data) => ({ name: 'chelsea.jpg', type: 'image/jpeg', data })),
    photo('chelsea.png').rotate(90).png().toBuffer().then((data) => ({ name: 'chelsea-portrait.png', type: 'image/png', data })),
    photo('astronaut.png').resize(240).jpeg({ quality: 70 }).toBuffer().then((data) => ({ name: 'astronaut-thumb.jpg', type: 'image/jpeg', data })),
  ];
  for (let seed = 1; seed <= 8; seed++) {
    const size = 200 + seed * 60;
    jobs.push(sharp(graphicSvg(seed, size)).png().toBuffer().then((data) => ({ name: `chart-${seed}.png`, type: 'image/png', data })));
  }
  // Icons under the 10 KB cutoff: the crawler should skip these.
  for (let seed = 1; seed <= 3; seed++) {
    jobs.push(sharp(graphicSvg(seed + 20, 32)).png({ palette: true }).toBuffer().then((data) => ({ name: `icon-${seed}.png`, type: 'image/png', data })));
  }
  return Promise.all(jobs);
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}<p><a href="/">home</a></p></body></html>`;
}

function renderPage(pathname: string, images: DemoImage[]): string | null {
  const big = images.filter((i) => !i.name.startsWith('icon-'));
  const icon = (n: number) => `<img src="/images/icon-${(n % 3) + 1}.png" alt="">`;
  if (pathname === '/' || pathname === '/index.html') {
    const links = SECTIONS.map((s) => `<li><a href="/${s}/">${s}</a></li>`).join('');
    return page('fc-nas-images demo site', `${icon(0)}<p>A small site to crawl.</p><ul>${links}</ul><img src="/images/astronaut.png" alt="astronaut">`);
  }
  const section = /^\/([a-z-]+)\/(?:(\d+)\.html)?$/.exec(pathname);
  if (!section) return null;
  const s = SECTIONS.indexOf(section[1]);
  if (s < 0) return null;
  if (!section[2]) {
    const links = Array.from({ length: PAGES_PER_SECTION }, (_, i) => `<li><a href="${i + 1}.html">${section[1]} ${i + 1}</a></li>`).join('');
    return page(section[1], `${icon(s)}<ul>${links}</ul>`);
  }
  const n = Number(section[2]);
  if (n < 1 || n > PAGES_PER_SECTION) return null;
  const k = s * PAGES_PER_SECTION + n - 1;
  const img = big[k % big.length];
  const next = n < PAGES_PER_SECTION ? `<a href="${n + 1}.html#top">next</a>` : `<a href="../${SECTIONS[(s + 1) % SECTIONS.length]}/1.html">next section</a>`;
  // The duplicate: the same bytes under a second URL.
  const extra = k === 7 ? '<img src="/mirror/astronaut-copy.png" alt="copy">' : '';
  return page(`${section[1]} ${n}`, `${icon(k)}<p><img src="/images/${img.name}" alt="${img.name}">${extra}</p><p>${next} · <a href="./">${section[1]}</a></p>`);
}

export interface DemoSite {
  url: string;
  close(): Promise<void>;
}

/** Serves the demo site on 127.0.0.1 (port 0 picks a free one). */
export async function startDemoSite(port = 0): Promise<DemoSite> {
  const images = await makeImages();
  const byPath = new Map(images.map((i) => [`/images/${i.name}`, i]));
  const astronaut = byPath.get('/images/astronaut.png');
  if (astronaut) byPath.set('/mirror/astronaut-copy.png', astronaut);
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://demo').pathname;
    const image = byPath.get(pathname);
    if (image) {
      res.writeHead(200, { 'content-type': image.type, 'content-length': image.data.length });
      res.end(req.method === 'HEAD' ? undefined : image.data);
      return;
    }
    const html = renderPage(pathname, images);
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? page('not found', ''));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
