/**
 * Sitemaps (sitemaps.org) as a source of pages: the `Sitemap:` lines of robots.txt and `/sitemap.xml`, sitemap
 * indexes followed, gzip files decoded. They find pages no link leads to. Read once per crawl for the seed's host;
 * the pages go through the state's normal push, so scope, maxDepth (a sitemap page is at depth 1) and dedupe apply.
 */
import zlib from 'node:zlib';
import { Parser } from 'htmlparser2';
import type { Logger } from '../log';
import type { Fetcher } from './fetcher';
import type { RobotsRules } from './robots';
import { normaliseUrl } from './url';

/** sitemaps.org's limits for one file: 50,000 URLs and (in the version most servers follow) 10 MB uncompressed. */
export const MAX_SITEMAP_URLS = 50_000;
export const MAX_SITEMAP_BYTES = 10 * 1024 * 1024;
/** Sitemap files read per host, indexes included: bounds the time and the frontier one crawl gives to sitemaps. */
export const MAX_SITEMAP_FILES = 50;

export interface ParsedSitemap {
  /** `urlset` lists pages, `sitemapindex` lists sitemaps; anything else is not a sitemap. */
  kind: 'urlset' | 'sitemapindex' | 'other';
  locs: string[];
  /** The `<lastmod>` of each entry that has a valid one, as epoch seconds, by index in `locs`. */
  lastmod: Map<number, number>;
  /** More than MAX_SITEMAP_URLS entries: the rest were dropped. */
  truncated: boolean;
}

/** The `<loc>` of each entry, by a streaming XML parse (no DOM for a 10 MB file); namespace prefixes are ignored. */
export function parseSitemap(xml: string): ParsedSitemap {
  const result: ParsedSitemap = { kind: 'other', locs: [], lastmod: new Map(), truncated: false };
  const local = (name: string) => name.slice(name.indexOf(':') + 1).toLowerCase();
  let depth = 0;
  // The entry's <loc> and <lastmod> (either may come first), and the text of the one being read.
  let loc: string | null = null;
  let lastmod: string | null = null;
  let reading: 'loc' | 'lastmod' | null = null;
  let text = '';
  const parser = new Parser(
    {
      onopentagname(name) {
        depth++;
        const tag = local(name);
        if (depth === 1) result.kind = tag === 'urlset' || tag === 'sitemapindex' ? tag : 'other';
        else if (depth === 3 && (tag === 'loc' || tag === 'lastmod')) {
          reading = tag;
          text = '';
        }
      },
      ontext(chunk) {
        if (reading) text += chunk;
      },
      onclosetag() {
        if (depth === 3 && reading) {
          if (reading === 'loc') loc = text.trim();
          else lastmod = text.trim();
          reading = null;
        } else if (depth === 2) {
          if (loc !== null) {
            if (result.locs.length < MAX_SITEMAP_URLS) {
              const at = lastmod ? Date.parse(lastmod) : NaN;
              if (Number.isFinite(at) && at > 0) result.lastmod.set(result.locs.length, Math.floor(at / 1000));
              result.locs.push(loc);
            } else result.truncated = true;
          }
          loc = null;
          lastmod = null;
        }
        depth--;
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(xml);
  if (result.kind === 'other') result.locs = [];
  return result;
}

/** A body that is a gzip file (`.xml.gz` served as such, not as Content-Encoding), decoded within the cap. */
function ungzip(body: Buffer): Buffer {
  if (body[0] !== 0x1f || body[1] !== 0x8b) return body;
  try {
    return zlib.gunzipSync(body, { maxOutputLength: MAX_SITEMAP_BYTES });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`larger than the cap of ${MAX_SITEMAP_BYTES} bytes once decompressed`);
    throw new Error(`not a readable gzip file: ${(e as Error).message}`);
  }
}

export interface SitemapPages {
  /** Page URLs in the order the sitemaps list them (normalised, not yet filtered by scope). */
  pages: string[];
  /** The `<lastmod>` of pages that have one, epoch seconds. */
  lastmod: Map<string, number>;
  /** Sitemap files read. */
  files: number;
}

/**
 * Reads the sitemaps of the host of `seed`; null when its robots.txt is unavailable (try again in a later run)
 * or the run is stopping. A sitemap that fails is logged and skipped.
 */
export async function readSitemaps(seed: string, fetcher: Fetcher, robots: RobotsRules | null, signal: AbortSignal, logger: Logger): Promise<SitemapPages | null> {
  const origin = new URL(seed).origin;
  const listed = robots ? await robots.sitemaps(seed) : [];
  if (listed === 'unavailable') return null;
  const guessed = `${origin}/sitemap.xml`;
  const queue = [...new Set([...listed.map((s) => normaliseUrl(s)).filter((s): s is string => s !== null), guessed])];
  const seen = new Set<string>();
  const pages: string[] = [];
  const lastmod = new Map<string, number>();
  let files = 0;
  while (queue.length > 0 && files < MAX_SITEMAP_FILES) {
    const url = queue.shift()!;
    if (seen.has(url)) continue;
    seen.add(url);
    // The guessed one is asked for like any page of the host; the listed ones are offered by robots.txt itself.
    if (url === guessed && !listed.includes(url) && robots && (await robots.verdict(url)) !== 'allowed') continue;
    const res = await fetcher.get(url, { maxBytes: MAX_SITEMAP_BYTES, accept: 'application/xml,text/xml;q=0.9,*/*;q=0.5' });
    // The run is stopping, or the host is paused past its end: a later run reads them all.
    if (signal.aborted || (!res.ok && res.deferred)) return null;
    files++;
    if (!res.ok) {
      // No /sitemap.xml is the usual case, not a warning.
      if (url === guessed && res.status === 404) continue;
      logger.warn('sitemap skipped', { url, reason: res.reason });
      continue;
    }
    let parsed: ParsedSitemap;
    try {
      parsed = parseSitemap(ungzip(res.body).toString('utf8'));
    } catch (e) {
      logger.warn('sitemap skipped', { url, reason: (e as Error).message });
      continue;
    }
    if (parsed.truncated) logger.warn('sitemap has more URLs than the cap; the rest are ignored', { url, cap: MAX_SITEMAP_URLS });
    const locs = parsed.locs.map((loc) => normaliseUrl(loc, res.url));
    const found = locs.filter((loc): loc is string => loc !== null);
    if (parsed.kind === 'sitemapindex') queue.push(...found);
    else if (parsed.kind === 'urlset') {
      pages.push(...found);
      for (const [i, at] of parsed.lastmod) if (locs[i]) lastmod.set(locs[i]!, at);
    }
    else logger.warn('sitemap skipped', { url, reason: 'not a <urlset> or <sitemapindex> document' });
  }
  if (queue.length > 0) logger.warn('more sitemap files than the cap; the rest are not read', { origin, cap: MAX_SITEMAP_FILES, left: queue.length });
  return { pages, lastmod, files };
}
