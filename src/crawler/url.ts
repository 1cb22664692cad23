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
  url.hash = '';
  url.username = '';
  url.password = '';
  return url.href;
}

/**
 * A plain relative reference that WHATWG URL would copy unchanged: path characters it never percent-encodes or
 * rewrites, no scheme (":"), no "\" (a "/" in http), no "%" (it may spell a dot segment), an optional query
 * without "'" (encoded in http queries) and an optional fragment. Dot segments are ruled out separately.
 */
const PLAIN_REF = /^[A-Za-z0-9\-._~!$&()*+,;=@/]+(?:\?[A-Za-z0-9\-._~!$&()*+,;=@/?:]*)?(?:#.*)?$/s;
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

/**
 * Resolves the references of one page against one base: plain relative references (most links of a real page)
 * by string concatenation, everything else through `normaliseUrl`. The result is always what
 * `normaliseUrl(href, base)` returns; test/crawler/extract.test.ts checks the two against each other.
 */
export class RefResolver {
  /** `scheme://host[:port]` of the base, or null when the base is not a normalised http(s) URL (no fast path). */
  private readonly origin: string | null = null;
  /** The base's path up to and including its last "/". */
  private readonly directory: string = '';

  constructor(private readonly base: string) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      return;
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) return;
    this.origin = `${url.protocol}//${url.host}`;
    this.directory = url.pathname.slice(0, url.pathname.lastIndexOf('/') + 1);
  }

  resolve(href: string): string | null {
    const ref = href.trim();
    if (this.origin === null || ref.startsWith('//') || !PLAIN_REF.test(ref)) return normaliseUrl(ref, this.base);
    const hash = ref.indexOf('#');
    const withoutHash = hash === -1 ? ref : ref.slice(0, hash);
    const query = withoutHash.indexOf('?');
    const path = query === -1 ? withoutHash : withoutHash.slice(0, query);
    if (path === '' || DOT_SEGMENT.test(path)) return normaliseUrl(ref, this.base);
    return path.startsWith('/') ? this.origin + withoutHash : this.origin + this.directory + withoutHash;
  }
}
