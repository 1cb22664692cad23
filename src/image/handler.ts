/**
 * The image service core: one plain request in, one response out. It never throws: bad input becomes a 4xx with
 * a reason, and only a genuine server fault becomes a logged 500.
 */
import type { HttpRequest } from '../fc/http-event';
import type { HttpResponse } from '../fc/reply';
import type { Logger } from '../log';
import { ResultStore, resultStoreCapFromEnv } from '../collection/result-store';
import { resolveNasPath, type NasPath } from '../nas/safe-path';
import { imageEtag, matchesIfNoneMatch } from './etag';
import { listGallery } from './gallery';
import { CONTENT_SECURITY_POLICY } from './html';
import { imageLimitsFromEnv, type ImageLimits } from './limits';
import { MIME_TYPES } from './output-format';
import type { FaceStore } from '../collection/faces-store';
import { faceStore } from './faces';
import { contentHashOfName, knownFaceCount } from './known-faces';
import { displayName, errorPage, galleryPage, imagePage, type GalleryTile } from './pages';
import { problem, type Problem } from './problem';
import { renderImage, type RenderMetrics } from './render';
import { renderGateFromEnv, type RenderGate } from './render-gate';
import { rawTooLarge, shownImage } from './response-size';
import { parseRequestParams, toGalleryRequest, toImageRequest, type RequestParams } from './request';
import { imageSourceInfo, type SourceInfo } from './source-info';
import { readImageFile } from './source';
import { thumbnail } from './thumbnails';
import { signingKeysFromEnv, verifySignedRequest } from './url-signature';

export interface ImageServiceOptions {
  root: string;
  logger: Logger;
  limits?: ImageLimits;
  /** The NAS result store; by default one per root, sized by IMAGE_RESULT_STORE_MB (0: none). */
  store?: ResultStore;
  /** By default one per instance, from IMAGE_MAX_CONCURRENT_RENDERS and IMAGE_RENDER_QUEUE. */
  gate?: RenderGate;
}

/** The fields of the one log line each request ends with (`msg: "image request"`). */
interface RequestMetrics extends RenderMetrics {
  action?: string;
  readMs?: number;
}

const stores = new Map<string, ResultStore>();
function defaultStore(root: string): ResultStore | undefined {
  const capBytes = resultStoreCapFromEnv(process.env);
  if (capBytes === 0) return undefined;
  let store = stores.get(root);
  if (!store) stores.set(root, (store = new ResultStore(root, { capBytes })));
  return store;
}
let gate: RenderGate | undefined;
const defaultGate = () => (gate ??= renderGateFromEnv(process.env));

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const IMAGE_CACHE_CONTROL = 'public, max-age=3600';
/** Pages always revalidate: the ETag makes that a cheap 304. */
const PAGE_CACHE_CONTROL = 'no-cache';
const HTML_HEADERS = { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' };

/** `format` is the parsed parameter, which a POST may carry in its body rather than the query. */
function wantsJson(req: HttpRequest | undefined, format?: string): boolean {
  if (!req) return false;
  if ((format ?? req.query.format) === 'json') return true;
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** An error as an HTML page for browsers, or `{error:{status,message}}` when the client asks for JSON. */
export function errorResponse(status: number, message: string, req: HttpRequest | undefined, format?: string, retryAfter?: number): HttpResponse {
  const title = STATUS_TITLES[status] ?? 'Error';
  const common = {
    'cache-control': 'no-store',
    vary: 'Accept',
    ...(status === 405 ? { allow: 'GET, POST' } : {}),
    ...(retryAfter ? { 'retry-after': String(retryAfter) } : {}),
  };
  if (wantsJson(req, format)) {
    return { status, headers: { ...common, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ error: { status, message } }) };
  }
  return { status, headers: { ...common, ...HTML_HEADERS }, body: errorPage(status, title, message) };
}

const refused = (p: Problem, req: HttpRequest, logger: Logger, format?: string) => {
  logger.info('image request refused', { status: p.status, reason: p.message, method: req.method });
  return errorResponse(p.status, p.message, req, format, p.retryAfter);
};

export async function handleImageRequest(req: HttpRequest, opts: ImageServiceOptions): Promise<HttpResponse> {
  const started = performance.now();
  const metrics: RequestMetrics = {};
  let response: HttpResponse;
  try {
    response = await route(req, opts, metrics);
  } catch (error) {
    opts.logger.error('image request failed', { error, path: req.path, method: req.method, query: req.query });
    response = errorResponse(500, 'internal error; the request id is in the service log', req);
  }
  const { action, cache, ...steps } = metrics;
  opts.logger.info('image request', {
    requestId: req.requestId,
    path: req.path,
    action: action ?? null,
    status: response.status,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    ...{ readMs: null, decodeMs: null, transformMs: null, encodeMs: null, ...steps },
    bytesOut: typeof response.body === 'string' ? Buffer.byteLength(response.body) : response.body.length,
    cache: cache ?? 'none',
  });
  return response;
}

async function route(req: HttpRequest, opts: ImageServiceOptions, metrics: RequestMetrics): Promise<HttpResponse> {
  const { logger } = opts;
  const signed = verifySignedRequest(req, signingKeysFromEnv(process.env));
  if (!signed.ok) return refused(signed.error, req, logger);
  req = signed.value;
  if (req.method !== 'GET' && req.method !== 'POST') return refused(problem(405, `method ${req.method} is not allowed; use GET or POST`), req, logger);
  const params = parseRequestParams(req);
  if (!params.ok) return refused(params.error, req, logger);
  metrics.action = params.value.action;
  const target = await resolveNasPath(opts.root, req.path);
  if (!target.ok) return refused(problem(target.error.status, target.error.reason), req, logger, params.value.format);
  const limits = opts.limits ?? imageLimitsFromEnv(process.env);
  if (target.value.kind === 'directory') {
    metrics.action = 'gallery';
    return gallery(req, target.value, params.value, limits, faceStore(opts.root, logger), logger);
  }
  return image(req, target.value, params.value, limits, opts, metrics);
}

async function gallery(req: HttpRequest, folder: NasPath, params: RequestParams, limits: ImageLimits, faceSidecars: FaceStore | undefined, logger: Logger): Promise<HttpResponse> {
  const galleryRequest = toGalleryRequest(params);
  if (!galleryRequest.ok) return refused(galleryRequest.error, req, logger, params.format);
  const listing = await listGallery(folder, galleryRequest.value.page);
  for (const dir of listing.unreadable) logger.warn('gallery skipped a folder it could not read', { folder: dir.relative, code: dir.code });
  const tiles = await Promise.all(
    listing.entries.map(async (entry): Promise<GalleryTile> => {
      const [thumb, faces] = await Promise.all([thumbnail(entry, limits), knownFaceCount(faceSidecars, contentHashOfName(entry.absolute))]);
      if (!thumb.ok) logger.warn('no thumbnail', { file: entry.relative, status: thumb.error.status, reason: thumb.error.message });
      return {
        relative: entry.relative,
        name: displayName(entry.sourceUrl, entry.name),
        width: entry.width ?? (thumb.ok ? thumb.value.sourceWidth : undefined),
        height: entry.height ?? (thumb.ok ? thumb.value.sourceHeight : undefined),
        faces,
        thumbnail: thumb.ok ? thumb.value : { error: thumb.error.message },
      };
    }),
  );
  const html = galleryPage({ folder: folder.relative, tiles, page: listing.page, pages: listing.pages, total: listing.total, truncated: listing.truncated });
  return { status: 200, headers: { ...HTML_HEADERS, 'cache-control': PAGE_CACHE_CONTROL }, body: html };
}

/** The manifest entry for an image page; an unreadable manifest costs the source URL, not the page. */
async function sourceInfo(root: string, relative: string, logger: Logger): Promise<SourceInfo | undefined> {
  return imageSourceInfo(root, relative).catch((error: unknown) => {
    logger.warn('manifest unreadable; page shown without source URL', { error, file: relative });
    return undefined;
  });
}

async function image(req: HttpRequest, target: NasPath, params: RequestParams, limits: ImageLimits, opts: ImageServiceOptions, metrics: RequestMetrics): Promise<HttpResponse> {
  const { logger } = opts;
  const imageRequest = toImageRequest(params);
  if (!imageRequest.ok) return refused(imageRequest.error, req, logger, params.format);
  const r = imageRequest.value;
  metrics.action = r.action ?? 'page';
  const readStarted = performance.now();
  const file = await readImageFile(target.absolute, limits);
  metrics.readMs = Math.round((performance.now() - readStarted) * 10) / 10;
  if (!file.ok) return refused(file.error, req, logger, params.format);

  // A page also shows the manifest entry, which can change under the same image: it is part of the page's tag.
  const info = r.output.kind === 'html' ? await sourceInfo(opts.root, target.relative, logger) : undefined;
  const etag = imageEtag(file.value.hash, r, info ? JSON.stringify(info) : '');
  // A 304 carries the Cache-Control of the answer it stands for, so a cache never turns a page into an hour-fresh copy.
  const validators = { etag, 'cache-control': r.output.kind === 'html' ? PAGE_CACHE_CONTROL : IMAGE_CACHE_CONTROL };
  if (matchesIfNoneMatch(req.headers['if-none-match'], etag)) return { status: 304, headers: validators, body: '' };

  const context = { store: opts.store ?? defaultStore(opts.root), gate: opts.gate ?? defaultGate(), faces: faceStore(opts.root, logger), logger, metrics };
  const rendered = await renderImage(file.value, r, limits, context);
  if (!rendered.ok) return refused(rendered.error, req, logger, params.format);
  const result = rendered.value;
  if (result.kind === 'faces') {
    const { width, height, faces } = result;
    return { status: 200, headers: { ...validators, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ width, height, faces }) };
  }
  if (r.output.kind === 'raw') {
    const tooLarge = rawTooLarge(result, limits);
    if (tooLarge) return refused(tooLarge, req, logger, params.format);
    return { status: 200, headers: { ...validators, 'content-type': MIME_TYPES[result.format] }, body: result.data };
  }

  const html = imagePage({
    relative: target.relative,
    action: r.action,
    values: r.values,
    query: r.query,
    result,
    shown: await shownImage(result, limits),
    knownFaces: result.faces ? undefined : await knownFaceCount(context.faces, file.value.hash),
    source: { type: file.value.type, bytes: file.value.bytes.length, hash: file.value.hash, width: result.sourceWidth, height: result.sourceHeight },
    info,
  });
  return { status: 200, headers: { ...validators, ...HTML_HEADERS }, body: html };
}
