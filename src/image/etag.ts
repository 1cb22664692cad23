/** Validators: an ETag from the content hash plus the normalised request, and If-None-Match matching. */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { canonicalAction } from './actions';
import { DETECTOR_VERSION } from './faces';
import type { ImageRequest } from './request';

/** Output bytes also depend on this code, on libvips and on the face detector, so any of them changing invalidates old tags. */
export const RENDER_VERSION = `2/${sharp.versions.vips}/${DETECTOR_VERSION}`;

/**
 * The request in canonical form, e.g. `rotate|angle=90|background=-|raw:png`: equal strings mean equal output.
 * The action's fields come from its cache key in the action table.
 */
export function canonicalRequest(req: ImageRequest): string {
  const output = req.output.kind === 'raw' ? `raw:${req.output.format ?? 'auto'}` : req.output.kind;
  return [req.action ? canonicalAction(req.action, req.values) : 'page', output].join('|');
}

/** `extra` is anything else the answer shows, such as a page's manifest entry. */
export function imageEtag(contentHash: string, req: ImageRequest, extra = ''): string {
  const digest = createHash('sha256').update(`${RENDER_VERSION}|${contentHash}|${canonicalRequest(req)}|${extra}`).digest('base64url');
  return `"${digest.slice(0, 32)}"`;
}

/** RFC 9110 weak comparison: W/ prefixes are ignored, `*` matches anything. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || strip(tag) === strip(etag));
}
