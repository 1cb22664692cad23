/**
 * URL normalisation, so that one page has one key in the history and the frontier. WHATWG URL already
 * lower-cases the host, drops default ports and resolves dot segments; this drops the fragment and anything
 * that is not http(s).
 */
export function normaliseUrl(href: string, base?: string | URL): string | null {
  let url: URL;
  try {
    url = new URL(href.trim(), base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  // Each setter re-serialises the URL, even to set what is already there. (The fragment can only come from `href`;
  // an empty one, "page#", reads as '' but is still serialised, so test the input.)
  if (href.includes('#')) url.hash = '';
  if (url.username) url.username = '';
  if (url.password) url.password = '';
  return url.href;
}

/** `scheme://host[:port]` of a normalised http(s) URL: what precedes its path, which normaliseUrl always writes. */
export function originOf(url: string): string {
  return url.slice(0, url.indexOf('/', url.indexOf('//') + 2));
}

/**
 * A plain relative reference that WHATWG URL would copy unchanged but for dot segments: path characters it never
 * percent-encodes or rewrites, no scheme (":"), no "\\" (a "/" in http), no "%" (it may spell a dot segment), an
 * optional query without "'" (encoded in http queries) and an optional fragment.
 */
const PLAIN_REF = /^[A-Za-z0-9\-._~!$&()*+,;=@/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=@/?:]*)?(?:#.*)?$/s;
const HAS_DOT_SEGMENT = /\/\.\.?(?:\/|$)/;
/**
 * A segment that starts with "." but is not a dot segment (".b"). Node 20's URL parser (ada) keeps dot segments
 * next to such a segment in some paths ("/a/.b/../c" stays as it is), so those go through it, to give the same key.
 */
const DOTTED_NAME = /\/\.(?!\.?(?:\/|$))/;

/** Removes "." and ".." segments from an absolute path, as WHATWG URL does for http(s). */
function removeDotSegments(path: string): string {
  if (!HAS_DOT_SEGMENT.test(path)) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    const last = i === segments.length - 1;
    if (segment === '..') {
      out.pop();
      if (last) out.push('');
    } else if (segment === '.') {
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  }
  return `/${out.join('/')}`;
}

/**
 * Resolves the references of one page against one base: plain relative references (most links of a real page)
 * by string operations, everything else through `normaliseUrl`. The result is always what
 * `normaliseUrl(href, base)` returns; test/crawler/extract.test.ts checks the two against each other.
 */
export class RefResolver {
  /** `scheme://host[:port]` of the base, or null when the base is not an http(s) URL without credentials (no fast path). */
  private readonly origin: string | null = null;
  /** The base's path, and its query with its "?". */
  private readonly path: string = '';
  private readonly query: string = '';

  constructor(private readonly base: string) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      return;
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) return;
    this.origin = `${url.protocol}//${url.host}`;
    this.path = url.pathname;
    this.query = url.search;
  }

  resolve(href: string): string | null {
    const ref = href.trim();
    if (this.origin === null || ref.startsWith('//') || !PLAIN_REF.test(ref)) return normaliseUrl(ref, this.base);
    const hash = ref.indexOf('#');
    const withoutHash = hash === -1 ? ref : ref.slice(0, hash);
    const queryAt = withoutHash.indexOf('?');
    const path = queryAt === -1 ? withoutHash : withoutHash.slice(0, queryAt);
    // An empty query ("a?") is kept as "?" by WHATWG URL; a reference without a path keeps the base's query unless it has its own.
    const query = queryAt === -1 ? (path === '' ? this.query : '') : withoutHash.slice(queryAt);
    if (path === '') return this.origin + this.path + query;
    const absolute = path.startsWith('/') ? path : this.path.slice(0, this.path.lastIndexOf('/') + 1) + path;
    if (DOTTED_NAME.test(absolute) && HAS_DOT_SEGMENT.test(absolute)) return normaliseUrl(ref, this.base);
    return this.origin + removeDotSegments(absolute) + query;
  }
}
