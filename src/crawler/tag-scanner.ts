/**
 * Finds the start and end tags of a few elements in HTML, with a few of their attributes, tokenizing as htmlparser2's
 * Tokenizer does in HTML mode (test/crawler/tag-scanner.test.ts holds it to that on generated tag soup). The crawler
 * is CPU-bound on tokenizing, and the Tokenizer steps through every character of a page in a state machine. This
 * jumps from `<` to `<`, and from quote to quote, with indexOf, which V8 runs as native code; it builds the string of
 * a name only when the name may be one asked for. On Debian's documentation sets the whole extraction takes half
 * the CPU it took with the Tokenizer, with the same links and images on every page (docs/performance.md, fix 9).
 */

export interface TagVisitor {
  /** Of the attributes asked for, the first of each name, with its value as `value` returned it. */
  onopentag(name: string, attribs: ReadonlyMap<string, string>): void;
  onclosetag(name: string): void;
  /** The value of an attribute of a reported tag, from its raw text (entities not decoded). */
  value(raw: string): string;
}

const enum Char {
  Bang = 0x21,
  DoubleQuote = 0x22,
  SingleQuote = 0x27,
  Dash = 0x2d,
  Slash = 0x2f,
  Equals = 0x3d,
  Gt = 0x3e,
  Question = 0x3f,
  LeftBracket = 0x5b,
}

/** Elements whose text runs, unparsed, to their end tag: htmlparser2's "special" tags. */
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp']);
const RAW_TEXT_END: Record<string, RegExp> = Object.fromEntries([...RAW_TEXT].map((name) => [name, new RegExp(`</${name}[\\t\\n\\f\\r >]`, 'gi')]));

const isAsciiAlpha = (c: number) => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;

/** Just past the next `search` at or after `from`, or the end of the text. */
function after(html: string, search: string, from: number): number {
  const at = html.indexOf(search, from);
  return at < 0 ? html.length : at + search.length;
}

/** `<!--` comments (`<!-->` included), `<![CDATA[`, and anything else after `<!`, which runs to a `>`. */
function declarationEnd(html: string, from: number): number {
  const c = html.charCodeAt(from);
  if (c === Char.Dash) {
    // `<!-x` is a declaration whose `x` is skipped: the Tokenizer does not look at it for a `>`.
    return html.charCodeAt(from + 1) === Char.Dash ? after(html, '-->', from) : after(html, '>', from + 2);
  }
  if (c === Char.LeftBracket && html.startsWith('CDATA[', from + 1)) return after(html, ']]>', from + 7);
  // The character after `<!` is never the declaration's end, even when it is `>`.
  return after(html, '>', from + 1);
}

/** Character classes inside a tag: HTML's white space (space, tab, LF, FF, CR), `/`, `>` and `=`. */
const WHITE = 1;
const SLASH = 2;
const GT = 4;
const EQUALS = 8;
const CLASS = new Uint8Array(128);
for (const c of [0x20, 0x09, 0x0a, 0x0c, 0x0d]) CLASS[c] = WHITE;
CLASS[Char.Slash] = SLASH;
CLASS[Char.Gt] = GT;
CLASS[Char.Equals] = EQUALS;
const classOf = (c: number) => (c < 128 ? CLASS[c] : 0);

/**
 * Lower-case names a scan looks out for, checked by length and first character before the string of a name is
 * built: most tags and attributes are none of them.
 */
class NameMatcher {
  private readonly firstChars: Uint32Array;

  constructor(private readonly names: ReadonlySet<string>) {
    this.firstChars = new Uint32Array(Math.max(0, ...[...names].map((name) => name.length)) + 1);
    // The low five bits of a character are the same in both cases of an ASCII letter.
    for (const name of names) this.firstChars[name.length] |= 1 << (name.charCodeAt(0) & 31);
  }

  /** The lower-case name written in html[from, to), when it is one of the names. */
  match(html: string, from: number, to: number): string | null {
    const length = to - from;
    if (length >= this.firstChars.length || !(this.firstChars[length] & (1 << (html.charCodeAt(from) & 31)))) return null;
    const name = html.slice(from, to).toLowerCase();
    return this.names.has(name) ? name : null;
  }
}

/** Where the end tag of a raw-text element starts (its text holds no tags), or the end of the document. */
function rawTextEnd(html: string, name: string, from: number): number {
  const re = RAW_TEXT_END[name];
  re.lastIndex = from;
  const m = re.exec(html);
  return m ? m.index : html.length;
}

/**
 * Scans pages for the start and end tags of the elements asked for, reporting the attributes asked for. Built once
 * and used for every page.
 */
export class TagScanner {
  /** The tags asked for and the raw-text elements. */
  private readonly tagNames: NameMatcher;
  private readonly attributeNames: NameMatcher;

  constructor(
    private readonly reported: ReadonlySet<string>,
    attributes: ReadonlySet<string>,
  ) {
    this.tagNames = new NameMatcher(new Set([...reported, ...RAW_TEXT]));
    this.attributeNames = new NameMatcher(attributes);
  }

  scan(html: string, visitor: TagVisitor): void {
    const end = html.length;
    for (let lt = html.indexOf('<'); lt >= 0 && lt + 1 < end; ) {
      const c = html.charCodeAt(lt + 1);
      let next: number;
      if (c === Char.Bang) next = declarationEnd(html, lt + 2);
      else if (c === Char.Question) next = after(html, '>', lt + 2);
      else if (c === Char.Slash) next = this.closingTag(html, lt + 2, visitor);
      else if (isAsciiAlpha(c)) next = this.startTag(html, lt + 1, visitor);
      else next = lt + 1; // a `<` that starts nothing is text
      lt = next < end ? html.indexOf('<', next) : -1;
    }
  }

  /** A closing tag, after `</`. Its name runs to white space or `>` (a `/` is part of it); the tag, to a `>`. */
  private closingTag(html: string, from: number, visitor: TagVisitor): number {
    const end = html.length;
    let at = from;
    while (at < end && classOf(html.charCodeAt(at)) === WHITE) at++;
    if (at >= end) return end;
    const c = html.charCodeAt(at);
    if (c === Char.Gt) return at + 1; // `</>` closes nothing
    if (!isAsciiAlpha(c)) return after(html, '>', at + 1); // a bogus comment, to the next `>` after this character
    const nameStart = at;
    while (at < end && !(classOf(html.charCodeAt(at)) & (WHITE | GT))) at++;
    if (at >= end) return end; // cut off by the end of the document: dropped
    const name = this.tagNames.match(html, nameStart, at);
    if (name && this.reported.has(name)) visitor.onclosetag(name);
    return after(html, '>', at);
  }

  /**
   * A start tag, from its name: attribute names run to white space, `/`, `>` or `=` (their first character may be
   * any other, `=` and quotes included); values are quoted, or run to white space or `>`. A tag cut off by the end of
   * the document is dropped, as a quote left open makes it. Returns where the text after the tag starts.
   */
  private startTag(html: string, from: number, visitor: TagVisitor): number {
    const end = html.length;
    let at = from;
    while (at < end && !(classOf(html.charCodeAt(at)) & (WHITE | SLASH | GT))) at++;
    const name = this.tagNames.match(html, from, at);
    const attribs = name !== null && this.reported.has(name) ? new Map<string, string>() : null;
    let selfClosing: boolean;
    for (;;) {
      // Before an attribute: white space and stray slashes; `/` then `>` (white space between) closes the tag.
      let c = 0;
      selfClosing = false;
      for (; at < end; at++) {
        c = html.charCodeAt(at);
        const k = classOf(c);
        if (k === SLASH) selfClosing = true;
        else if (k !== WHITE) break;
      }
      if (at >= end) return end;
      if (c === Char.Gt) break;
      const nameStart = at++;
      while (at < end && !(classOf(html.charCodeAt(at)) & (WHITE | SLASH | GT | EQUALS))) at++;
      const nameEnd = at;
      while (at < end && classOf((c = html.charCodeAt(at))) === WHITE) at++;
      let valueStart = at;
      let valueEnd = at;
      if (at < end && c === Char.Equals) {
        at++;
        while (at < end && classOf((c = html.charCodeAt(at))) === WHITE) at++;
        if (at >= end) return end;
        if (c === Char.DoubleQuote || c === Char.SingleQuote) {
          valueStart = at + 1;
          valueEnd = html.indexOf(c === Char.DoubleQuote ? '"' : "'", valueStart);
          if (valueEnd < 0) return end;
          at = valueEnd + 1;
        } else {
          valueStart = at;
          while (at < end && !(classOf(html.charCodeAt(at)) & (WHITE | GT))) at++;
          valueEnd = at;
        }
      }
      const key = attribs && this.attributeNames.match(html, nameStart, nameEnd);
      if (key && !attribs.has(key)) attribs.set(key, visitor.value(html.slice(valueStart, valueEnd)));
    }
    if (attribs) visitor.onopentag(name!, attribs);
    if (name !== null && RAW_TEXT.has(name) && !selfClosing) return rawTextEnd(html, name, at + 1);
    return at + 1;
  }
}
