/**
 * The crawl bench's site, written as static files: N pages in a tree with cross-links (so a crawler meets links it
 * has already seen) and M distinct JPEGs cut from a collage of the real photos, in four size classes from
 * thumbnails under the 10 KB cutoff to 1600×1067 photos. Every image is on at least one page.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT } from '../lib/mode';

const PHOTOS = ['astronaut.png', 'coffee.png', 'chelsea.png', 'camera.png'].map((f) => path.join(REPO_ROOT, 'assets/photos', f));
const SOURCE = { width: 2400, height: 1600 };
const CHILDREN = 5;

/** Three in ten images are thumbnails below the default 10 KB cutoff; the rest are web photo sizes (about 100 KB on average). */
const SIZE_CLASSES = [[96, 64], [96, 64], [96, 64], [640, 427], [640, 427], [640, 427], [640, 427], [1024, 683], [1280, 853], [1600, 1067]] as const;

export interface Site {
  dir: string;
  pages: number;
  images: number;
  imageBytes: number;
}

async function sourceCollage(): Promise<Buffer> {
  const cellW = SOURCE.width / 2;
  const cellH = SOURCE.height / 2;
  const tiles = await Promise.all(
    PHOTOS.map(async (file, i) => ({
      input: await sharp(file).resize(cellW, cellH, { fit: 'cover' }).toBuffer(),
      left: (i % 2) * cellW,
      top: Math.floor(i / 2) * cellH,
    })),
  );
  return sharp({ create: { ...SOURCE, channels: 3, background: '#808080' } }).composite(tiles).raw().toBuffer();
}

/** A white dot whose place encodes k: windows of the collage may repeat, the files must not (crawlers dedupe by content). */
const WHITE_DOT = { input: Buffer.from([255, 255, 255]), raw: { width: 1, height: 1, channels: 3 as const } };

/** Image k: a window of the collage that moves with k, resized to its size class and marked with its own dot. */
async function writeImage(source: Buffer, k: number, file: string): Promise<number> {
  const [width, height] = SIZE_CLASSES[k % SIZE_CLASSES.length];
  const cropW = Math.round(SOURCE.width * (0.4 + ((k * 7) % 60) / 100));
  const cropH = Math.round((cropW * height) / width);
  const left = (k * 37) % (SOURCE.width - cropW + 1);
  const top = (k * 53) % (SOURCE.height - cropH + 1);
  const info = await sharp(source, { raw: { ...SOURCE, channels: 3 } })
    .extract({ left, top, width: cropW, height: cropH })
    .resize(width, height)
    .composite([{ ...WHITE_DOT, left: k % width, top: Math.floor(k / width) % height }])
    .jpeg({ quality: 75 })
    .toFile(file);
  return info.size;
}

const pageName = (i: number) => (i === 0 ? 'index.html' : `pages/p${i}.html`);

function pageHtml(i: number, pages: number, images: number): string {
  const children = Array.from({ length: CHILDREN }, (_, c) => i * CHILDREN + c + 1).filter((p) => p < pages);
  const cross = [Math.floor((i - 1) / CHILDREN), (i * 31 + 7) % pages, (i * 101 + 13) % pages].filter((p) => p >= 0 && p !== i);
  const links = [...children, ...cross].map((p) => `<li><a href="/${pageName(p)}">page ${p}</a></li>`).join('\n');
  const imgs = [i % images, (i * 7 + 3) % images].map((k) => `<img src="/img/i${k}.jpg" alt="image ${k}">`).join('\n');
  const text = `<p>Page ${i} of the benchmark site. ${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8)}</p>`;
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Page ${i}</title></head><body>\n<h1>Page ${i}</h1>\n${text}\n${imgs}\n<ul>\n${links}\n</ul>\n</body></html>\n`;
}

export async function generateSite(dir: string, pages: number, images: number): Promise<Site> {
  fs.mkdirSync(path.join(dir, 'pages'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'img'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'robots.txt'), 'User-agent: *\nDisallow:\n');
  for (let i = 0; i < pages; i++) fs.writeFileSync(path.join(dir, pageName(i)), pageHtml(i, pages, images));
  const source = await sourceCollage();
  let imageBytes = 0;
  // Two encodes at a time: one per core.
  for (let k = 0; k < images; k += 2) {
    const sizes = await Promise.all([k, k + 1].filter((j) => j < images).map((j) => writeImage(source, j, path.join(dir, 'img', `i${j}.jpg`))));
    imageBytes += sizes.reduce((a, b) => a + b, 0);
  }
  return { dir, pages, images, imageBytes };
}
