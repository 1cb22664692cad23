/**
 * npm run bench:image-choices — the measurements behind the image service's two choices (README, "Image service"):
 * which face cascade and parameters, and which encoded format for which content. Uses the bundled photos plus,
 * when Debian's python3-skimage is installed, its other sample photos as extra face-free images.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DETECTION } from '../src/image/faces';
import { openCv } from '../src/image/opencv';
import { analyseContent } from '../src/image/output-format';
import { DEBIAN_CASCADE_DIR } from '../src/image/cascade';

const PHOTOS = path.join(__dirname, '../assets/photos');
const SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data';
/** Photos with a known number of faces; everything else used here has none. */
const FACES: Record<string, number> = { 'astronaut.png': 1, 'camera.png': 1 };
const EXTRA_FACE_FREE = ['coins.png', 'motorcycle_left.png', 'hubble_deep_field.jpg', 'ihc.png', 'moon.png', 'rocket.jpg', 'retina.jpg', 'grass.png', 'gravel.png', 'brick.png', 'horse.png', 'page.png', 'text.png', 'color.png'];

interface Config {
  label: string;
  file: string;
  scaleFactor: number;
  minNeighbors: number;
  /** Share of the shorter side; 0 = no minimum (the original). */
  minShare: number;
}

const CONFIGS: Config[] = [
  { label: 'original: LBP frontalface', file: 'lbpcascades/lbpcascade_frontalface.xml', scaleFactor: 1.03, minNeighbors: 5, minShare: 0 },
  { label: 'LBP frontalface', file: 'lbpcascades/lbpcascade_frontalface.xml', scaleFactor: 1.1, minNeighbors: 4, minShare: DETECTION.minFaceShare },
  { label: 'LBP frontalface_improved', file: 'lbpcascades/lbpcascade_frontalface_improved.xml', scaleFactor: 1.1, minNeighbors: 4, minShare: DETECTION.minFaceShare },
  { label: 'LBP frontalface_improved (chosen)', file: 'lbpcascades/lbpcascade_frontalface_improved.xml', scaleFactor: DETECTION.scaleFactor, minNeighbors: DETECTION.minNeighbors, minShare: DETECTION.minFaceShare },
  { label: 'Haar frontalface_default', file: 'haarcascades/haarcascade_frontalface_default.xml', scaleFactor: 1.1, minNeighbors: 4, minShare: DETECTION.minFaceShare },
  { label: 'Haar frontalface_alt', file: 'haarcascades/haarcascade_frontalface_alt.xml', scaleFactor: 1.1, minNeighbors: 4, minShare: DETECTION.minFaceShare },
  { label: 'Haar frontalface_alt2', file: 'haarcascades/haarcascade_frontalface_alt2.xml', scaleFactor: 1.1, minNeighbors: 4, minShare: DETECTION.minFaceShare },
  { label: 'Haar frontalface_alt2', file: 'haarcascades/haarcascade_frontalface_alt2.xml', scaleFactor: 1.2, minNeighbors: 3, minShare: DETECTION.minFaceShare },
];

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

function photoFiles(): string[] {
  const bundled = readdirSync(PHOTOS).filter((f) => f.endsWith('.png')).map((f) => path.join(PHOTOS, f));
  const extra = EXTRA_FACE_FREE.map((f) => path.join(SKIMAGE, f)).filter((f) => existsSync(f));
  return [...bundled, ...extra];
}

async function cascades(): Promise<void> {
  const cv = openCv();
  const images = await Promise.all(
    photoFiles().map(async (file) => {
      const { data, info } = await sharp(file).flatten({ background: '#fff' }).resize(DETECTION.maxSide, DETECTION.maxSide, { fit: 'inside', withoutEnlargement: true }).greyscale().raw().toBuffer({ resolveWithObject: true });
      return { name: path.basename(file), faces: FACES[path.basename(file)] ?? 0, mat: new cv.Mat(data, info.height, info.width, cv.CV_8UC1), side: Math.min(info.width, info.height) };
    }),
  );
  console.log(`\nFace cascades on ${images.length} photos (${Object.keys(FACES).length} with one face each, the rest face-free), grey, longest side <= ${DETECTION.maxSide}:\n`);
  console.log('| cascade | scaleFactor, minNeighbors, minSize | faces found | false positives | ms per photo (median) |');
  console.log('|---|---|---|---|---|');
  for (const c of CONFIGS) {
    const classifier = new cv.CascadeClassifier(path.join(DEBIAN_CASCADE_DIR, c.file));
    let found = 0;
    let falsePositives = 0;
    const times: number[] = [];
    const misses: string[] = [];
    for (const img of images) {
      const min = c.minShare ? Math.max(DETECTION.minFacePixels, Math.round(img.side * c.minShare)) : 0;
      const { ms, value } = await timed(3, () => classifier.detectMultiScale(img.mat, c.scaleFactor, c.minNeighbors, 0, new cv.Size(min, min)).objects.length);
      times.push(ms);
      if (img.faces) {
        found += Math.min(value, img.faces);
        falsePositives += Math.max(0, value - img.faces);
        if (value < img.faces) misses.push(img.name);
      } else falsePositives += value;
    }
    const minSize = c.minShare ? `max(${DETECTION.minFacePixels} px, ${Math.round(c.minShare * 100)}% of short side)` : 'none';
    console.log(`| ${c.label} | ${c.scaleFactor}, ${c.minNeighbors}, ${minSize} | ${found}/2${misses.length ? ` (missed ${misses.join(', ')})` : ''} | ${falsePositives} | ${median(times).toFixed(1)} |`);
  }
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
  await cascades();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
