/**
 * Finds the links and images of an HTML page, resolved against `<base href>` and the page URL and normalised.
 * It streams through the page with TagScanner and builds no DOM: a crawler needs the attributes of a handful of
 * tags, not a document (cheerio stays for whatever does need one).
 */
import { decodeHTMLAttribute } from 'entities';
import { TagScanner, type TagVisitor } from './tag-scanner';
import { RefResolver } from './url';

export interface PageRefs {
  /** Distinct page links in document order (`<a href>`, also when it names an image file: the response decides). */
  links: string[];
  /**
   * Distinct image URLs in document order: `<img src>` and the largest `srcset` candidate, lazy-loading attributes,
   * the largest candidate of each storable `<picture><source>`, `og:image` and `<link rel="image_src">`.
   */
  images: string[];
}

export interface ExtractOptions {
  /** Drop `rel="nofollow"` links, and every link when `<meta name="robots">` says nofollow or none. */
  nofollow?: boolean;
}

/**
 * The largest srcset candidate: by width descriptor, else by density, else the first one. Parsed as the HTML
 * spec does: a URL runs to the next white space (so it may hold commas), then descriptors run to the next comma.
 */
export function largestSrcsetCandidate(srcset: string): string | null {
  let best: { url: string; size: number } | null = null;
  const re = /[\s,]*([^\s]+)([^,]*)/y;
  for (let m = re.exec(srcset); m && m[0] !== ''; m = re.exec(srcset)) {
    let url = m[1];
    let descriptor = m[2].trim();
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
      descriptor = '';
      re.lastIndex -= m[2].length;
    }
    const d = /^(\d+(?:\.\d+)?)([wx])$/.exec(descriptor);
    const size = d ? Number(d[1]) * (d[2] === 'w' ? 1 : 10_000) : 10_000;
    if (!best || size > best.size) best = { url, size };
  }
  return best?.url ?? null;
}

/** `<source type>` values the image store accepts (src/collection/image-type.ts); SVG and JPEG XL are not among them. */
const STORABLE_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/pjpeg', 'image/png', 'image/apng', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'image/tiff']);

/** Attributes lazy-loading scripts read the real image from. */
const LAZY_SRC = ['data-src', 'data-lazy-src', 'data-original'] as const;

/**
 * A `src` that only holds the place of a lazy-loaded image: empty, a data: URI (a 1×1 GIF or PNG inline), or a
 * well-known spacer file name. It is not fetched when the element names its real image in a lazy attribute.
 */
const PLACEHOLDER_SRC = /^\s*(?:$|data:|\S*\/(?:blank|spacer|pixel|transparent|placeholder|empty|1x1|grey|gray|lazy|loading)[\w-]*\.gif(?:[?#]|$))/i;

const tokens = (value: string | undefined) => (value ? value.toLowerCase().split(/\s+/) : []);

const NON_ASCII = /[\x80-\xff]/;

/** The elements and attributes RefCollector reads. */
const scanner = new TagScanner(
  new Set(['a', 'img', 'picture', 'source', 'base', 'meta', 'link']),
  new Set(['href', 'rel', 'src', 'srcset', 'type', 'property', 'name', 'content', 'data-srcset', ...LAZY_SRC]),
);

type Attributes = ReadonlyMap<string, string>;

/** Raw references in document order; resolved at the end, when `<base href>` and the robots meta are known. */
class RefCollector implements TagVisitor {
  readonly links: string[] = [];
  readonly images: string[] = [];
  baseHref: string | undefined;
  metaNofollow = false;
  private pictureDepth = 0;

  constructor(
    private readonly nofollow: boolean,
    /** The page was read as latin1, one character per byte: the values kept are decoded as UTF-8. */
    private readonly bytes: boolean,
  ) {}

  value(raw: string): string {
    const text = this.bytes && NON_ASCII.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
    return text.includes('&') ? decodeHTMLAttribute(text) : text;
  }

  onopentag(name: string, attribs: Attributes): void {
    switch (name) {
      case 'a': {
        const href = attribs.get('href');
        if (href !== undefined && !(this.nofollow && tokens(attribs.get('rel')).includes('nofollow'))) this.links.push(href);
        return;
      }
      case 'img':
        return this.img(attribs);
      case 'picture':
        this.pictureDepth++;
        return;
      case 'source': {
        const type = attribs.get('type');
        if (this.pictureDepth > 0 && (!type || STORABLE_TYPES.has(type.trim().toLowerCase()))) {
          this.srcset(attribs.get('srcset'));
          this.srcset(attribs.get('data-srcset'));
        }
        return;
      }
      case 'base':
        if (this.baseHref === undefined) this.baseHref = attribs.get('href');
        return;
      case 'meta':
        return this.meta(attribs);
      case 'link': {
        const href = attribs.get('href');
        if (href && tokens(attribs.get('rel')).includes('image_src')) this.images.push(href);
        return;
      }
    }
  }

  onclosetag(name: string): void {
    if (name === 'picture' && this.pictureDepth > 0) this.pictureDepth--;
  }

  private img(attribs: Attributes): void {
    const lazy = LAZY_SRC.map((key) => attribs.get(key)).filter((value): value is string => !!value);
    const isLazy = lazy.length > 0 || !!attribs.get('data-srcset');
    const src = attribs.get('src');
    if (src && !(isLazy && PLACEHOLDER_SRC.test(src))) this.images.push(src);
    this.srcset(attribs.get('srcset'));
    if (!isLazy) return;
    this.images.push(...lazy);
    this.srcset(attribs.get('data-srcset'));
  }

  private srcset(value: string | undefined): void {
    const largest = value ? largestSrcsetCandidate(value) : null;
    if (largest) this.images.push(largest);
  }

  private meta(attribs: Attributes): void {
    const property = attribs.get('property')?.trim().toLowerCase();
    const content = attribs.get('content');
    if ((property === 'og:image' || property === 'og:image:url' || property === 'og:image:secure_url') && content) this.images.push(content);
    if (attribs.get('name')?.trim().toLowerCase() === 'robots') {
      const directives = tokens(content?.replace(/,/g, ' '));
      if (directives.includes('nofollow') || directives.includes('none')) this.metaNofollow = true;
    }
  }
}

function resolveAll(refs: string[], resolver: RefResolver): string[] {
  // A reference written again (navigation repeated down a page) resolves to what it did the first time.
  const written = new Set<string>();
  const seen = new Set<string>();
  for (const ref of refs) {
    if (written.has(ref)) continue;
    written.add(ref);
    const url = resolver.resolve(ref);
    if (url) seen.add(url);
  }
  return [...seen];
}

/**
 * `html` may be the response body as it came: a Buffer is read as UTF-8. It is tokenized as latin1, one character
 * per byte, which costs a copy where UTF-8 decoding of a whole page costs a pass, and finds the same tokens: every
 * character HTML's syntax gives a meaning to is ASCII, and no byte of a multi-byte UTF-8 sequence is. Only the
 * attribute values kept are decoded as UTF-8.
 */
export function extractRefs(html: string | Buffer, pageUrl: string, options: ExtractOptions = {}): PageRefs {
  const bytes = typeof html !== 'string';
  const collector = new RefCollector(options.nofollow ?? false, bytes);
  scanner.scan(bytes ? html.toString('latin1') : html, collector);

  const base = (collector.baseHref && new RefResolver(pageUrl).resolve(collector.baseHref)) || pageUrl;
  const resolver = new RefResolver(base);
  const links = options.nofollow && collector.metaNofollow ? [] : resolveAll(collector.links, resolver);
  return { links, images: resolveAll(collector.images, resolver) };
}
