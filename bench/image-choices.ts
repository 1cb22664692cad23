/**
 * npm run bench:image-choices — the measurements behind the image service's choice of encoded format for which
 * content (README, "Image service"). The face detector's choice has its own bench: npm run bench:faces.
 */
import path from 'node:path';
import sharp from 'sharp';
import { openCv } from '../src/image/opencv';
import { analyseContent } from '../src/image/output-format';

const PHOTOS = path.join(__dirname, '../assets/photos');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed<T>(runs: number, fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  let value = await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    value = await fn();
    times.push(performance.now() - start);
  }
  return { ms: median(times), value };
}

async function formats(): Promise<void> {
  const chart = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400"><rect width="100%" height="100%" fill="#fafafa"/>` +
      `<circle cx="200" cy="150" r="90" fill="#3a8" stroke="#222" stroke-width="3"/><rect x="300" y="100" width="80" height="250" fill="#a53"/>` +
      `<text x="20" y="380" font-size="28" font-family="sans-serif">Quarterly results: revenue, costs</text></svg>`,
  );
  const inputs: Array<[string, string | Buffer]> = [
    ['astronaut.png (photo, 512x512)', path.join(PHOTOS, 'astronaut.png')],
    ['coffee.png (photo, 600x400)', path.join(PHOTOS, 'coffee.png')],
    ['camera.png (grey photo)', path.join(PHOTOS, 'camera.png')],
    ['chart (drawn graphic with text)', chart],
  ];
  console.log('\nEncoders on decoded pixels (median of 7; KiB / ms):\n');
  console.log('| image | classified as | PNG, adaptive filtering | PNG palette (effort 4, no dither) | JPEG q85, optimised Huffman tables | JPEG q85, standard tables (used) | WebP q80 |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [label, input] of inputs) {
    const { data, info } = await sharp(input).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const channels = info.channels === 4 ? 4 : 3;
    const kind = analyseContent({ pixels: data, width: info.width, height: info.height, channels });
    const raw = () => sharp(data, { raw: { width: info.width, height: info.height, channels } });
    const cell = async (encode: () => Promise<Buffer>) => {
      const { ms, value } = await timed(7, encode);
      return `${(value.length / 1024).toFixed(0)} / ${ms.toFixed(1)}`;
    };
    const cells = [
      await cell(() => raw().png({ adaptiveFiltering: true }).toBuffer()),
      await cell(() => raw().png({ palette: true, dither: 0, effort: 4 }).toBuffer()),
      await cell(() => raw().flatten({ background: '#fff' }).jpeg({ quality: 85 }).toBuffer()),
      await cell(() => raw().flatten({ background: '#fff' }).jpeg({ quality: 85, optimiseCoding: false }).toBuffer()),
      await cell(() => raw().webp({ quality: 80 }).toBuffer()),
    ];
    console.log(`| ${label} | ${kind.alpha ? 'alpha' : kind.graphic ? 'graphic' : 'photo'} | ${cells.join(' | ')} |`);
  }
}

async function main(): Promise<void> {
  console.log(`sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, OpenCV ${Object.values(openCv().version).join('.')}`);
  await formats();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
