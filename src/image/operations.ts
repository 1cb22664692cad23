/** The pixel operations, each a step on a sharp pipeline that starts from decoded pixels (no temp files). */
import sharp, { type Sharp } from 'sharp';
import type { Rgba } from './actions';
import type { DecodedImage } from './source';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const TRANSPARENT: Rgba = { r: 0, g: 0, b: 0, alpha: 0 };
export const WHITE: Rgba = { r: 255, g: 255, b: 255, alpha: 1 };

export function pixelPipeline(image: DecodedImage): Sharp {
  return sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } });
}

/** Multiples of 90 are exact pixel moves (no resampling, no background); other angles fill the corners. */
export const isRightAngle = (angle: number) => angle % 90 === 0;

/** The canvas a rotation produces: the bounding box of the turned rectangle (as libvips computes it, within a pixel). */
export function rotatedSize(width: number, height: number, angle: number): { width: number; height: number } {
  if (isRightAngle(angle)) return (angle / 90) % 2 === 0 ? { width, height } : { width: height, height: width };
  const rad = (angle * Math.PI) / 180;
  const cos = Math.abs(Math.cos(rad));
  const sin = Math.abs(Math.sin(rad));
  return { width: Math.ceil(width * cos + height * sin), height: Math.ceil(width * sin + height * cos) };
}

export function rotate(pipeline: Sharp, angle: number, background: Rgba): Sharp {
  const turn = ((angle % 360) + 360) % 360;
  if (turn === 0) return pipeline;
  if (isRightAngle(turn)) return pipeline.rotate(turn);
  // An alpha channel is needed for transparent corners to exist at all.
  const withAlpha = background.alpha < 1 ? pipeline.ensureAlpha() : pipeline;
  return withAlpha.rotate(turn, { background });
}

/** Outlines each box with a stroke scaled to the image, drawn as one SVG overlay composited in memory. */
export function outlineBoxes(pipeline: Sharp, width: number, height: number, boxes: Box[]): Sharp {
  if (boxes.length === 0) return pipeline;
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 150));
  const rects = boxes
    .map((b) => `<rect x="${b.x + stroke / 2}" y="${b.y + stroke / 2}" width="${Math.max(1, b.width - stroke)}" height="${Math.max(1, b.height - stroke)}"/>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g fill="none" stroke="#ff1f3d" stroke-width="${stroke}">${rects}</g></svg>`;
  return pipeline.composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
}
