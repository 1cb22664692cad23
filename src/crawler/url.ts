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
