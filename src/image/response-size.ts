/**
 * Keeps every answer under the response cap (ImageLimits.maxResponseBytes, itself under FC's 32 MB limit for a
 * synchronous response). A page whose data URI would pass it embeds a downscaled WebP preview instead, with a
 * link to the full result; raw bytes past it are refused with 413.
 */
import sharp from 'sharp';
import type { ImageLimits } from './limits';
import { MIME_TYPES } from './output-format';
import { problem, type Problem } from './problem';
import type { RenderedImage } from './render';
import { byteSize } from './source';

/** The longest side of a preview: sharp on a 4K screen, and a few MiB at most. */
export const PREVIEW_SIDE = 2560;

export interface ShownImage {
  data: Buffer;
  mime: string;
  /** The full result did not fit in the page; this is a smaller copy. */
  preview: boolean;
}

/** Base64 turns 3 bytes into 4 characters. */
export const dataUriLength = (bytes: number, mime: string) => `data:${mime};base64,`.length + 4 * Math.ceil(bytes / 3);

export function rawTooLarge(result: RenderedImage, limits: ImageLimits): Problem | undefined {
  if (result.data.length <= limits.maxResponseBytes) return undefined;
  return problem(
    413,
    `the result is ${byteSize(result.data.length)}, over the ${byteSize(limits.maxResponseBytes)} response limit (IMAGE_MAX_RESPONSE_MB; FC answers at most 32 MB): ask for format=jpeg or webp, or open the image's page for a preview`,
  );
}

/** What the page embeds: the result itself when its data URI fits, else a preview well inside the cap. */
export async function shownImage(result: RenderedImage, limits: ImageLimits): Promise<ShownImage> {
  const mime = MIME_TYPES[result.format];
  if (dataUriLength(result.data.length, mime) <= limits.maxResponseBytes) return { data: result.data, mime, preview: false };
  const data = await sharp(result.data, { limitInputPixels: false })
    .resize(PREVIEW_SIDE, PREVIEW_SIDE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer();
  return { data, mime: 'image/webp', preview: true };
}
