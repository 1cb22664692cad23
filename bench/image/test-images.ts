/**
 * The images of the image bench, made from the real photos in assets/photos: the face photo itself, a 0.25 MP PNG,
 * and 2 MP and 12 MP JPEG collages of the photos (real photographic content, so codecs and the face detector work
 * as they would on crawled images, unlike flat noise).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT } from '../lib/mode';

const PHOTOS = path.join(REPO_ROOT, 'assets/photos');
const COLLAGE_SOURCES = ['astronaut.png', 'coffee.png', 'chelsea.png', 'camera.png'];

export interface BenchImage {
  /** Label in the tables. */
  label: string;
  /** Path relative to the NAS root, as the request path names it. */
  file: string;
}

/** A columns x rows grid of the photos, each cell cropped to fill, encoded as JPEG. */
async function collage(width: number, height: number, columns: number, rows: number): Promise<Buffer> {
  const cellW = Math.floor(width / columns);
  const cellH = Math.floor(height / rows);
  const tiles = await Promise.all(
    Array.from({ length: columns * rows }, async (_, i) => ({
      input: await sharp(path.join(PHOTOS, COLLAGE_SOURCES[i % COLLAGE_SOURCES.length])).resize(cellW, cellH, { fit: 'cover' }).toBuffer(),
      left: (i % columns) * cellW,
      top: Math.floor(i / columns) * cellH,
    })),
  );
  return sharp({ create: { width, height, channels: 3, background: '#808080' } }).composite(tiles).jpeg({ quality: 90 }).toBuffer();
}

/** Writes the bench images under <nasRoot>/bench/ and lists them. */
export async function writeBenchImages(nasRoot: string, smoke: boolean): Promise<BenchImage[]> {
  const dir = path.join(nasRoot, 'bench');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(PHOTOS, 'astronaut.png'), path.join(dir, 'face.png'));
  await sharp(path.join(PHOTOS, 'coffee.png')).resize(612, 408).png().toFile(path.join(dir, 'quarter-mp.png'));
  const images: BenchImage[] = [
    { label: 'face photo 512×512 PNG', file: 'bench/face.png' },
    { label: '0.25 MP PNG (612×408)', file: 'bench/quarter-mp.png' },
  ];
  if (smoke) return images;
  fs.writeFileSync(path.join(dir, '2mp.jpg'), await collage(1732, 1155, 3, 2));
  fs.writeFileSync(path.join(dir, '12mp.jpg'), await collage(4242, 2828, 6, 4));
  images.push({ label: '2 MP JPEG (1732×1155)', file: 'bench/2mp.jpg' }, { label: '12 MP JPEG (4242×2828)', file: 'bench/12mp.jpg' });
  return images;
}
