import { originOf } from './url';

/**
 * Links written relative to the page they were found on, so that a page's batch of links costs a few bytes per
 * link in the journal however long the page URL is. Every short form is checked by resolving it back: the journal
 * only ever holds a form that resolves to exactly the link.
 */
export function relativeTo(link: string, page: string): string {
  const query = page.indexOf('?');
  const path = query < 0 ? page : page.slice(0, query);
  const dir = path.slice(0, path.lastIndexOf('/') + 1);
  const origin = originOf(page);
  const candidates: string[] = [];
  if (link.startsWith(path) && link[path.length] === '?') candidates.push(link.slice(path.length));
  if (link.startsWith(dir)) candidates.push(link.slice(dir.length));
  if (origin && link.startsWith(origin + '/')) candidates.push(link.slice(origin.length));
  for (const short of candidates) if (short !== '' && resolve(short, page) === link) return short;
  return link;
}

/** The absolute URL of a link written by relativeTo, or null when it does not resolve. */
export function resolve(short: string, page: string): string | null {
  try {
    return new URL(short, page).href;
  } catch {
    return null;
  }
}
