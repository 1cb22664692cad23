/**
 * Resolves a request path strictly inside the NAS root. The path arrives percent-decoded exactly once (by the
 * HTTP adapter); it is never decoded again here, so `%2e%2e` stays a literal name and a leftover escape is refused.
 * Lexical checks come first, then realpath on both sides, so a symlink that leads out of the root is refused too.
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { err, ok, type Result } from '../result';

export interface NasPath {
  /** The real (symlink-free) absolute path. */
  absolute: string;
  /** Path relative to the root, '/'-separated, '' for the root itself. */
  relative: string;
  kind: 'file' | 'directory';
  stats: Stats;
}

export interface PathRefusal {
  status: 400 | 403 | 404;
  reason: string;
}

const refuse = (status: PathRefusal['status'], reason: string) => err<PathRefusal>({ status, reason });

/** Lexical validation of a decoded request path into root-relative segments. */
export function pathSegments(requestPath: string): Result<string[], PathRefusal> {
  if (requestPath.includes('\0')) return refuse(400, 'path contains a NUL byte');
  if (requestPath.includes('\\')) return refuse(400, 'path contains a backslash');
  if (!requestPath.startsWith('/')) return refuse(400, 'path must start with /');
  // The adapter already decoded once; an escape that survives means the client encoded twice.
  if (/%[0-9a-fA-F]{2}/.test(requestPath)) return refuse(400, 'path is percent-encoded more than once');
  if (requestPath.startsWith('//')) return refuse(400, 'absolute paths are not allowed');
  const segments = requestPath.split('/').filter((s) => s !== '');
  for (const segment of segments) {
    if (segment === '..' || segment === '.') return refuse(403, 'path traversal (. or .. segment) is not allowed');
    if (/^[A-Za-z]:/.test(segment)) return refuse(400, 'drive-letter paths are not allowed');
    if (segment.startsWith('.')) return refuse(403, 'hidden files and folders are not served');
  }
  return ok(segments);
}

const isInside = (realRoot: string, target: string) => target === realRoot || target.startsWith(realRoot + path.sep);

/** Resolves `requestPath` to an existing file or folder inside `root`, or says why not. */
export async function resolveNasPath(root: string, requestPath: string): Promise<Result<NasPath, PathRefusal>> {
  const segments = pathSegments(requestPath);
  if (!segments.ok) return segments;
  const realRoot = await fs.realpath(root);
  let real: string;
  let stats: Stats;
  try {
    real = await fs.realpath(path.join(realRoot, ...segments.value));
    stats = await fs.stat(real);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return refuse(404, 'no such image or folder');
    if (code === 'ELOOP') return refuse(403, 'symlink loop');
    if (code === 'EACCES' || code === 'EPERM') return refuse(403, 'permission denied');
    if (code === 'ENAMETOOLONG') return refuse(400, 'path is too long');
    throw e;
  }
  if (!isInside(realRoot, real)) return refuse(403, 'path leads outside the NAS root');
  const relative = path.relative(realRoot, real).split(path.sep).filter((s) => s !== '');
  // A symlink inside the root may still point at a hidden folder such as .state.
  if (relative.some((s) => s.startsWith('.'))) return refuse(403, 'hidden files and folders are not served');
  if (!stats.isFile() && !stats.isDirectory()) return refuse(404, 'not a regular file or folder');
  return ok({ absolute: real, relative: relative.join('/'), kind: stats.isFile() ? 'file' : 'directory', stats });
}
