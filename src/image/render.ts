/**
 * The work behind one image request: decode once, apply the action, choose the format by content, encode.
 * Results are looked up, in order, in a per-instance LRU, in the requests already in flight in this instance
 * (single flight), in the NAS result store shared by all instances (src/collection/result-store.ts), and in
 * another instance's claim on the same entry; only then is the image rendered, behind the render gate.
 */
import { createHash } from 'node:crypto';
import type { ResultStore, StoredResult } from '../collection/result-store';
import type { Logger } from '../log';
import { err, ok, type Result } from '../result';
import { actionDefinition } from './actions';
import { canonicalRequest, RENDER_VERSION } from './etag';
import type { FaceStore } from '../collection/faces-store';
import { detectedFaces, knownFaces } from './faces';
import type { ImageLimits } from './limits';
import { LruCache } from './lru-cache';
import { pixelPipeline, type Box } from './operations';
import { analyseContent, chooseFormat, encode, type OutputFormat } from './output-format';
import { problem, type Problem } from './problem';
import { QueueFull, type RenderGate } from './render-gate';
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

/** Where the answer came from and what each step of a render cost; the request's log line reports them. */
export interface RenderMetrics {
  cache?: 'memory' | 'store' | 'miss';
  decodeMs?: number;
  /** Face detection, content analysis and building the pipeline; libvips runs the pixel work lazily, inside encode. */
  transformMs?: number;
  encodeMs?: number;
}

export interface RenderContext {
  store?: ResultStore;
  /** The faces sidecars on the NAS (src/collection/faces-store.ts). */
  faces?: FaceStore;
  gate?: RenderGate;
  logger?: Logger;
  metrics?: RenderMetrics;
}

configureImageThreads(process.env);

const DEFAULT_CACHE_MB = 64;
const cacheMb = Number(process.env.IMAGE_CACHE_MB);
const cache = new LruCache<Rendered>(
  (Number.isFinite(cacheMb) && cacheMb >= 0 ? cacheMb : DEFAULT_CACHE_MB) * 1024 * 1024,
  (r) => (r.kind === 'image' ? r.data.length : 64 * (r.faces.length + 1)),
);
const inFlight = new Map<string, Promise<Result<Rendered, Problem>>>();

/** The result's identity: equal keys mean equal bytes, in this instance and on the NAS. */
export function resultKey(file: ImageFile, req: ImageRequest): string {
  // The page and the HTML view of show embed the same bytes as raw auto-format output.
  const output = req.output.kind === 'html' ? ({ kind: 'raw', format: undefined } as const) : req.output;
  return createHash('sha256').update(`${RENDER_VERSION}|${file.hash}|${canonicalRequest({ ...req, output })}`).digest('hex');
}

export async function renderImage(file: ImageFile, req: ImageRequest, limits: ImageLimits, ctx: RenderContext = {}): Promise<Result<Rendered, Problem>> {
  const metrics = ctx.metrics ?? {};
  const key = resultKey(file, req);
  const cached = cache.get(key);
  if (cached) {
    metrics.cache = 'memory';
    return ok(cached);
  }
  let flight = inFlight.get(key);
  if (!flight) {
    flight = fetchOrRender(key, file, req, limits, ctx, metrics).finally(() => inFlight.delete(key));
    inFlight.set(key, flight);
  } else {
    metrics.cache = 'memory';
  }
  return flight;
}

async function fetchOrRender(key: string, file: ImageFile, req: ImageRequest, limits: ImageLimits, ctx: RenderContext, metrics: RenderMetrics): Promise<Result<Rendered, Problem>> {
  const { store } = ctx;
  const stored = store && (await storeStep(ctx, 'read', () => store.get(key)));
  if (stored) return ok(remember(key, fromStored(stored), metrics));
  const release = store && (await storeStep(ctx, 'claim', () => store.claim(key)));
  if (store && release === undefined) {
    // Another instance is rendering this very result: wait for its entry rather than render it twice.
    const claimed = await storeStep(ctx, 'read', () => store.waitForClaimed(key));
    if (claimed) return ok(remember(key, fromStored(claimed), metrics));
  }
  try {
    // Claimed: an instance that rendered and released between our read and our claim has left its entry.
    const late = release && (await storeStep(ctx, 'read', () => store.get(key)));
    if (late) return ok(remember(key, fromStored(late), metrics));
    metrics.cache = 'miss';
    let rendered: Result<Rendered, Problem>;
    try {
      rendered = await (ctx.gate ? ctx.gate.run(() => render(file, req, limits, ctx.faces, metrics)) : render(file, req, limits, ctx.faces, metrics));
    } catch (e) {
      if (e instanceof QueueFull) return err(problem(503, e.message, e.retryAfterSeconds));
      throw e;
    }
    if (rendered.ok) {
      cache.set(key, rendered.value);
      if (store) await storeStep(ctx, 'write', () => store.put(key, toStored(rendered.value)));
    }
    return rendered;
  } finally {
    if (release) await storeStep(ctx, 'release', release);
  }
}

function remember(key: string, rendered: Rendered, metrics: RenderMetrics): Rendered {
  metrics.cache = 'store';
  cache.set(key, rendered);
  return rendered;
}

/** A failing store (read-only NAS, ENOSPC) costs only the cache: it is logged and the answer is still served. */
async function storeStep<T>(ctx: RenderContext, step: string, run: () => Promise<T>): Promise<T | false> {
  try {
    return await run();
  } catch (error) {
    ctx.logger?.warn('result store unavailable; answering without it', { step, error });
    return false;
  }
}

function toStored(rendered: Rendered): StoredResult {
  if (rendered.kind === 'faces') return { meta: rendered as unknown as Record<string, unknown>, data: Buffer.alloc(0) };
  const { data, ...meta } = rendered;
  return { meta, data };
}

function fromStored({ meta, data }: StoredResult): Rendered {
  return meta.kind === 'faces' ? (meta as unknown as FaceReport) : ({ ...meta, data } as RenderedImage);
}

async function render(file: ImageFile, req: ImageRequest, limits: ImageLimits, faceStore: FaceStore | undefined, metrics: RenderMetrics): Promise<Result<Rendered, Problem>> {
  let started = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = Math.round((now - started) * 10) / 10;
    started = now;
    return ms;
  };
  const definition = actionDefinition(req.action ?? 'show');
  // Faces an instance already found answer format=json without a decode, and the page without detecting; the
  // sidecar is read only here.
  const known = definition.detectsFaces ? await knownFaces(faceStore, file.hash) : undefined;
  if (known && req.output.kind === 'json') return ok({ kind: 'faces', ...known } satisfies FaceReport);
  const decoded = await decodeImage(file.bytes, limits);
  metrics.decodeMs = lap();
  if (!decoded.ok) return decoded;
  const image = decoded.value;
  const faces = definition.detectsFaces ? (known ?? (await detectedFaces(faceStore, file.hash, image))).faces : undefined;
  if (faces && req.output.kind === 'json') {
    metrics.transformMs = lap();
    return ok({ kind: 'faces', width: image.width, height: image.height, faces });
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
  metrics.transformMs = lap();

  const { data, info } = await encode(pipeline, format, content);
  metrics.encodeMs = lap();
  return ok({ kind: 'image', data, format, width: info.width, height: info.height, faces, sourceWidth: image.width, sourceHeight: image.height });
}
