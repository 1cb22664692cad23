/**
 * Finds the links and images of an HTML page, resolved against `<base href>` and the page URL and normalised.
 * It streams through htmlparser2's tokenizer and builds no DOM: a crawler needs the attributes of a handful of
 * tags, not a document (cheerio stays for whatever does need one). It drives the Tokenizer itself rather than the
 * Parser, so that only those tags get their attributes collected (the Parser builds an object for every tag).
 */
import { decodeHTMLAttribute } from 'entities';
import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';
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

/** The tags whose attributes RefCollector reads (and `</picture>`, which TagReader reports by itself). */
const TAGS_READ = new Set(['a', 'img', 'picture', 'source', 'base', 'meta', 'link']);

/** Raw references in document order; resolved at the end, when `<base href>` and the robots meta are known. */
class RefCollector {
  readonly links: string[] = [];
  readonly images: string[] = [];
  baseHref: string | undefined;
  metaNofollow = false;
  private pictureDepth = 0;

  constructor(private readonly nofollow: boolean) {}

  onopentag(name: string, attribs: Record<string, string>): void {
    switch (name) {
      case 'a':
        if (attribs.href !== undefined && !(this.nofollow && tokens(attribs.rel).includes('nofollow'))) this.links.push(attribs.href);
        return;
      case 'img':
        return this.img(attribs);
      case 'picture':
        this.pictureDepth++;
        return;
      case 'source':
        if (this.pictureDepth > 0 && (!attribs.type || STORABLE_TYPES.has(attribs.type.trim().toLowerCase()))) {
          this.srcset(attribs.srcset);
          this.srcset(attribs['data-srcset']);
        }
        return;
      case 'base':
        if (this.baseHref === undefined && attribs.href !== undefined) this.baseHref = attribs.href;
        return;
      case 'meta':
        return this.meta(attribs);
      case 'link':
        if (attribs.href && tokens(attribs.rel).includes('image_src')) this.images.push(attribs.href);
        return;
    }
  }

  pictureEnded(): void {
    if (this.pictureDepth > 0) this.pictureDepth--;
  }

  private img(attribs: Record<string, string>): void {
    const lazy = LAZY_SRC.filter((key) => attribs[key]);
    const isLazy = lazy.length > 0 || !!attribs['data-srcset'];
    const src = attribs.src;
    if (src && !(isLazy && PLACEHOLDER_SRC.test(src))) this.images.push(src);
    this.srcset(attribs.srcset);
    if (!isLazy) return;
    for (const key of lazy) this.images.push(attribs[key]);
    this.srcset(attribs['data-srcset']);
  }

  private srcset(value: string | undefined): void {
    const largest = value ? largestSrcsetCandidate(value) : null;
    if (largest) this.images.push(largest);
  }

  private meta(attribs: Record<string, string>): void {
    const property = attribs.property?.trim().toLowerCase();
    if ((property === 'og:image' || property === 'og:image:url' || property === 'og:image:secure_url') && attribs.content) this.images.push(attribs.content);
    if (attribs.name?.trim().toLowerCase() === 'robots') {
      const directives = tokens(attribs.content?.replace(/,/g, ' '));
      if (directives.includes('nofollow') || directives.includes('none')) this.metaNofollow = true;
    }
  }
}

/**
 * Tokenizer callbacks that hand RefCollector the tags it reads, with their attributes as htmlparser2's Parser gives
 * them: names lower-cased, entities decoded, the first of repeated attributes kept. `<x/>` opens `x`, as in HTML.
 */
class TagReader implements TokenizerCallbacks {
  private tag = '';
  private attribs: Record<string, string> | null = null;
  private name = '';
  private value = '';

  constructor(
    private readonly html: string,
    private readonly collector: RefCollector,
    /** `html` holds the body's bytes one per character (latin1): the values kept are decoded as UTF-8. */
    private readonly bytes: boolean,
  ) {}

  onopentagname(start: number, end: number): void {
    this.tag = this.html.slice(start, end).toLowerCase();
    this.attribs = TAGS_READ.has(this.tag) ? Object.create(null) : null;
  }

  onattribname(start: number, end: number): void {
    if (this.attribs) this.name = this.html.slice(start, end).toLowerCase();
  }

  onattribdata(start: number, end: number): void {
    if (this.attribs) this.value += this.html.slice(start, end);
  }

  /** Never called with decodeEntities off: the kept values are decoded in onattribend. */
  onattribentity(): void {}

  onattribend(): void {
    if (this.attribs && !(this.name in this.attribs)) {
      const value = this.bytes && NON_ASCII.test(this.value) ? Buffer.from(this.value, 'latin1').toString('utf8') : this.value;
      this.attribs[this.name] = value.includes('&') ? decodeHTMLAttribute(value) : value;
    }
    this.value = '';
  }

  onopentagend(): void {
    if (this.attribs) this.collector.onopentag(this.tag, this.attribs);
    this.attribs = null;
  }

  onselfclosingtag(): void {
    this.onopentagend();
  }

  onclosetag(start: number, end: number): void {
    if (end - start === 7 && this.html.slice(start, end).toLowerCase() === 'picture') this.collector.pictureEnded();
  }

  oncdata(): void {}
  oncomment(): void {}
  ondeclaration(): void {}
  onend(): void {}
  onprocessinginstruction(): void {}
  ontext(): void {}
  ontextentity(): void {}
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
  const collector = new RefCollector(options.nofollow ?? false);
  const bytes = typeof html !== 'string';
  const text = bytes ? html.toString('latin1') : html;
  const tokenizer = new Tokenizer({ xmlMode: false, decodeEntities: false }, new TagReader(text, collector, bytes));
  tokenizer.write(text);
  tokenizer.end();

  const base = (collector.baseHref && new RefResolver(pageUrl).resolve(collector.baseHref)) || pageUrl;
  const resolver = new RefResolver(base);
  const links = options.nofollow && collector.metaNofollow ? [] : resolveAll(collector.links, resolver);
  return { links, images: resolveAll(collector.images, resolver) };
}
