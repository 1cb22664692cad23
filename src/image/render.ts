/**
 * The work behind one image request: decode once, apply the action, choose the format by content, encode.
 * Results are kept in a per-instance LRU keyed by content hash and canonical request, so a reload or a
 * second viewer costs a file read and a hash, not a decode and an encode.
 */
import { err, ok, type Result } from '../result';
import { canonicalRequest } from './etag';
import type { FaceStore } from '../collection/faces-store';
import { facesOf, knownFaces } from './faces';
import type { ImageLimits } from './limits';
import { LruCache } from './lru-cache';
import { isRightAngle, outlineBoxes, pixelPipeline, rotate, rotatedSize, TRANSPARENT, WHITE, type Box } from './operations';
import { analyseContent, chooseFormat, encode, supportsAlpha, type OutputFormat } from './output-format';
import { problem, type Problem } from './problem';
import type { ImageRequest } from './request';
import { decodeImage, type ImageFile } from './source';
import { configureImageThreads } from './threads';

export interface RenderedImage {
  kind: 'image';
  data: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
  /** Set for facedetect. */
  faces: Box[] | undefined;
  /** The source's oriented size. */
  sourceWidth: number;
  sourceHeight: number;
}

export interface FaceReport {
  kind: 'faces';
  width: number;
  height: number;
  faces: Box[];
}

export type Rendered = RenderedImage | FaceReport;

configureImageThreads(process.env);

const DEFAULT_CACHE_MB = 64;
const cacheMb = Number(process.env.IMAGE_CACHE_MB);
const cache = new LruCache<Rendered>(
  (Number.isFinite(cacheMb) && cacheMb >= 0 ? cacheMb : DEFAULT_CACHE_MB) * 1024 * 1024,
  (r) => (r.kind === 'image' ? r.data.length : 64 * (r.faces.length + 1)),
);

export async function renderImage(file: ImageFile, req: ImageRequest, limits: ImageLimits, faceStore: FaceStore | undefined): Promise<Result<Rendered, Problem>> {
  // The page and the HTML view of show embed the same bytes as raw auto-format output.
  const key = `${file.hash}|${canonicalRequest({ ...req, output: req.output.kind === 'html' ? { kind: 'raw', format: undefined } : req.output })}`;
  const cached = cache.get(key);
  if (cached) return ok(cached);
  // Faces another instance already found answer format=json without a decode.
  const known = req.action === 'facedetect' && req.output.kind === 'json' ? await knownFaces(faceStore, file.hash) : undefined;
  if (known) return ok({ kind: 'faces', ...known } satisfies FaceReport);
  const decoded = await decodeImage(file.bytes, limits);
  if (!decoded.ok) return decoded;
  const image = decoded.value;
  const action = req.action ?? 'show';

  const faces = action === 'facedetect' ? (await facesOf(faceStore, file.hash, image)).faces : undefined;
  if (faces && req.output.kind === 'json') {
    const report: FaceReport = { kind: 'faces', width: image.width, height: image.height, faces };
    cache.set(key, report);
    return ok(report);
  }

  const content = analyseContent(image);
  const angle = req.angle ?? 0;
  const addsTransparency = action === 'rotate' && !isRightAngle(angle) && (req.background?.alpha ?? 1) < 1;
  // Outputs are held to the input pixel limit: a long strip turned by 45° would otherwise need gigapixels.
  const size = action === 'rotate' ? rotatedSize(image.width, image.height, angle) : image;
  if (size.width * size.height > limits.maxPixels) {
    return err(problem(413, `the result would be ${size.width}x${size.height} pixels, over the limit of ${limits.maxPixels}`));
  }
  const chosen = chooseFormat(content, req.output.kind === 'raw' ? req.output.format : undefined, addsTransparency, size);
  if (!chosen.ok) return chosen;
  const format = chosen.value;

  let pipeline = pixelPipeline(image);
  if (action === 'rotate') pipeline = rotate(pipeline, angle, req.background ?? (supportsAlpha(format) ? TRANSPARENT : WHITE));
  else if (action === 'flip') pipeline = pipeline.flip();
  else if (action === 'flop') pipeline = pipeline.flop();
  else if (faces) pipeline = outlineBoxes(pipeline, image.width, image.height, faces);

  const { data, info } = await encode(pipeline, format, content);
  const rendered: RenderedImage = { kind: 'image', data, format, width: info.width, height: info.height, faces, sourceWidth: image.width, sourceHeight: image.height };
  cache.set(key, rendered);
  return ok(rendered);
}
