/**
 * The work behind one image request: decode once, apply the action, choose the format by content, encode.
 * Results are kept in a per-instance LRU keyed by content hash and canonical request, so a reload or a
 * second viewer costs a file read and a hash, not a decode and an encode.
 */
import { err, ok, type Result } from '../result';
import { canonicalRequest } from './etag';
import { detectFaces } from './faces';
import type { ImageLimits } from './limits';
import { LruCache } from './lru-cache';
import { actionDefinition } from './actions';
import { pixelPipeline, type Box } from './operations';
import { analyseContent, chooseFormat, encode, type OutputFormat } from './output-format';
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

export async function renderImage(file: ImageFile, req: ImageRequest, limits: ImageLimits): Promise<Result<Rendered, Problem>> {
  // The page and the HTML view of show embed the same bytes as raw auto-format output.
  const key = `${file.hash}|${canonicalRequest({ ...req, output: req.output.kind === 'html' ? { kind: 'raw', format: undefined } : req.output })}`;
  const cached = cache.get(key);
  if (cached) return ok(cached);
  const decoded = await decodeImage(file.bytes, limits);
  if (!decoded.ok) return decoded;
  const image = decoded.value;
  const definition = actionDefinition(req.action ?? 'show');
  const faces = definition.detectsFaces ? await detectFaces(image) : undefined;
  if (faces && req.output.kind === 'json') {
    const report: FaceReport = { kind: 'faces', width: image.width, height: image.height, faces };
    cache.set(key, report);
    return ok(report);
  }

  const content = analyseContent(image);
  const addsTransparency = definition.addsTransparency?.(req.values) ?? false;
  // Outputs are held to the input pixel limit: a long strip turned by 45° would otherwise need gigapixels.
  const size = definition.outputSize?.(image.width, image.height, req.values) ?? image;
  if (size.width * size.height > limits.maxPixels) {
    return err(problem(413, `the result would be ${size.width}x${size.height} pixels, over the limit of ${limits.maxPixels}`));
  }
  const chosen = chooseFormat(content, req.output.kind === 'raw' ? req.output.format : undefined, addsTransparency, size);
  if (!chosen.ok) return chosen;
  const format = chosen.value;

  const pipeline = definition.apply(pixelPipeline(image), req.values, { image, format, faces });

  const { data, info } = await encode(pipeline, format, content);
  const rendered: RenderedImage = { kind: 'image', data, format, width: info.width, height: info.height, faces, sourceWidth: image.width, sourceHeight: image.height };
  cache.set(key, rendered);
  return ok(rendered);
}
