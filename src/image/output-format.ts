/**
 * The encoded format is chosen by what the pixels are, not by the file name (README, "Output format"):
 * photographs become JPEG q85 (fastest and smallest here), graphics and anything transparent become PNG,
 * palette-based for graphics. Measured on real photos and drawn graphics in bench/image-choices.ts.
 */
import type { OutputInfo, Sharp } from 'sharp';
import { err, ok, type Result } from '../result';
import { problem, type Problem } from './problem';
import type { DecodedImage } from './source';

export type OutputFormat = 'jpeg' | 'png' | 'webp';

export const MIME_TYPES: Record<OutputFormat, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

export interface ContentKind {
  /** Few colours dominate (text, line art, charts, flat fills). */
  graphic: boolean;
  /** At least one pixel is not fully opaque. */
  alpha: boolean;
}

const SAMPLES = 16384;
const GOLDEN = 0.6180339887498949;
/**
 * A graphic has at most 256 colours in the sample and either very few colours or four that cover half the
 * picture (background and ink). Grey photos also have at most 256 values, but no four of them dominate;
 * a product shot on white has thousands of colours, so it stays a photo.
 */
const GRAPHIC_MAX_COLOURS = 256;
const GRAPHIC_FEW_COLOURS = 32;
const GRAPHIC_TOP4_SHARE = 0.5;

function usesAlpha(image: DecodedImage): boolean {
  if (image.channels !== 4) return false;
  for (let i = 3; i < image.pixels.length; i += 4) if (image.pixels[i] !== 255) return true;
  return false;
}

/** Samples pixels along a golden-ratio sequence, so stripes aligned with the row width cannot fool it. */
function isGraphic(image: DecodedImage): boolean {
  const n = image.width * image.height;
  const samples = Math.min(n, SAMPLES);
  const counts = new Map<number, number>();
  for (let i = 0; i < samples; i++) {
    const p = samples === n ? i : Math.floor(((i * GOLDEN) % 1) * n);
    const o = p * image.channels;
    const key = (image.pixels[o] << 16) | (image.pixels[o + 1] << 8) | image.pixels[o + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (counts.size > GRAPHIC_MAX_COLOURS) return false;
  }
  if (counts.size <= GRAPHIC_FEW_COLOURS) return true;
  const top4 = [...counts.values()].sort((a, b) => b - a).slice(0, 4).reduce((a, b) => a + b, 0);
  return top4 >= GRAPHIC_TOP4_SHARE * samples;
}

export function analyseContent(image: DecodedImage): ContentKind {
  return { graphic: isGraphic(image), alpha: usesAlpha(image) };
}

export const supportsAlpha = (format: OutputFormat) => format !== 'jpeg';

/** The encoders' own limits on a side, in pixels. */
export const MAX_SIDE: Record<OutputFormat, number> = { jpeg: 65_535, webp: 16_383, png: 2 ** 31 - 1 };

/**
 * `requested` wins, if the result fits that format; otherwise transparency (kept or introduced by the operation)
 * and graphics get PNG, photos JPEG, or PNG when the result is too wide for JPEG.
 */
export function chooseFormat(
  content: ContentKind,
  requested: OutputFormat | undefined,
  addsTransparency: boolean,
  size: { width: number; height: number },
): Result<OutputFormat, Problem> {
  const side = Math.max(size.width, size.height);
  if (requested) {
    if (side <= MAX_SIDE[requested]) return ok(requested);
    return err(problem(413, `the result is ${size.width}x${size.height}; format=${requested} holds at most ${MAX_SIDE[requested]} px per side, use format=png`));
  }
  if (content.alpha || addsTransparency || content.graphic || side > MAX_SIDE.jpeg) return ok('png');
  return ok('jpeg');
}

/** Encoder settings per format; JPEG cannot hold alpha, so it is flattened onto white. */
export function encode(pipeline: Sharp, format: OutputFormat, content: ContentKind): Promise<{ data: Buffer; info: OutputInfo }> {
  switch (format) {
    case 'jpeg':
      // optimiseCoding (a second pass for optimal Huffman tables) would take 2.5 ms instead of 1.1 ms on a 512²
      // photo to save 1.5% of its bytes (bench/image-choices.ts).
      return pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: 85, optimiseCoding: false }).toBuffer({ resolveWithObject: true });
    case 'webp':
      return pipeline.webp({ quality: 80 }).toBuffer({ resolveWithObject: true });
    case 'png':
      return pipeline
        .png(content.graphic ? { palette: true, dither: 0, effort: 4 } : { adaptiveFiltering: true })
        .toBuffer({ resolveWithObject: true });
  }
}
