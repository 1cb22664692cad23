import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';
import { TagScanner, type TagVisitor } from '../../src/crawler/tag-scanner';

const TAGS = new Set(['a', 'img', 'picture']);
const ATTRIBUTES = new Set(['href', 'src', 'data-src']);

/** What TagScanner reports, as one line per tag. */
function scanned(html: string): string[] {
  const events: string[] = [];
  const visitor: TagVisitor = {
    onopentag: (name, attribs) => events.push(`<${name} ${JSON.stringify([...attribs])}`),
    onclosetag: (name) => events.push(`</${name}`),
    value: (raw) => raw,
  };
  new TagScanner(TAGS, ATTRIBUTES).scan(html, visitor);
  return events;
}

/** The same, read off htmlparser2's Tokenizer in HTML mode: the behaviour TagScanner promises to keep. */
function tokenized(html: string): string[] {
  const events: string[] = [];
  let tag = '';
  let attribs: Map<string, string> | null = null;
  let name = '';
  let value = '';
  const noop = () => {};
  const opened = () => {
    if (attribs) events.push(`<${tag} ${JSON.stringify([...attribs])}`);
    attribs = null;
  };
  const callbacks: TokenizerCallbacks = {
    onopentagname: (start, end) => {
      tag = html.slice(start, end).toLowerCase();
      attribs = TAGS.has(tag) ? new Map() : null;
    },
    onattribname: (start, end) => (name = html.slice(start, end).toLowerCase()),
    onattribdata: (start, end) => (value += html.slice(start, end)),
    onattribend: () => {
      if (attribs && ATTRIBUTES.has(name) && !attribs.has(name)) attribs.set(name, value);
      value = '';
    },
    onopentagend: opened,
    onselfclosingtag: opened,
    onclosetag: (start, end) => {
      const closed = html.slice(start, end).toLowerCase();
      if (TAGS.has(closed)) events.push(`</${closed}`);
    },
    onattribentity: noop,
    oncdata: noop,
    oncomment: noop,
    ondeclaration: noop,
    onend: noop,
    onprocessinginstruction: noop,
    ontext: noop,
    ontextentity: noop,
  };
  const tokenizer = new Tokenizer({ xmlMode: false, decodeEntities: false }, callbacks);
  tokenizer.write(html);
  tokenizer.end();
  return events;
}

/** A seeded generator (mulberry32), so that a failure names a document that can be made again. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Tag soup built from the pieces where a tokenizer can go wrong: white space of every kind, stray slashes, quotes
 * and `>` in values, attribute names that start with `=` or a quote, comments and declarations of every shape,
 * raw-text elements and the near-misses of their end tags. (htmlparser2 also takes `<tmp>`, `<xitle>` and
 * `<xextarea>` for raw-text elements, a quirk of its matcher that TagScanner does not copy: they are left out.)
 */
function tagSoup(next: () => number): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  const space = () => pick([' ', '\t', '\n', '\f', '\r', '  ', ' / ', '/', '']);
  const names = ['a', 'A', 'img', 'IMG', 'Img', 'picture', 'PICTURE', 'div', 'p', 'tr', 'b', 'br', 'script', 'SCRIPT', 'style', 'title', 'Title', 'textarea', 'xmp', 'scripts', 'ab', 'imgs', 'x-a', 'a:b'];
  const attrNames = ['href', 'HREF', 'Href', 'src', 'data-src', 'x', '=x', '"q', "'q", 'hre', 'hrefs', 'alt'];
  const values = () => pick([`"v${pick(['', '>', "'", '<a href=x>', ' ', '&amp;'])}1"`, `'v${pick(['', '>', '"', ' '])}2'`, 'v3', 'a/b', 'a"b', '', '/', '"open', "'open", '>']);
  const attribute = () => {
    const assign = next() < 0.7 ? `${pick(['', ' ', '\n'])}=${pick(['', ' ', '\t'])}${values()}` : '';
    return `${pick([' ', '\t', '\n', '/', ' /', ''])}${pick(attrNames)}${assign}`;
  };
  const pieces: (() => string)[] = [
    () => pick(['text', ' ', '\n', 'a < b', '<3', '<<', '< a href=no>', '&amp;', '>', '"', "'", '=']),
    () => `<${pick(names)}${Array.from({ length: Math.floor(next() * 4) }, attribute).join('')}${space()}${pick(['>', '/>', ' />', '/ >'])}`,
    () => `</${pick(['', ' ', '\t'])}${pick(names)}${pick(['', ' ', ' x="<>"', '/', '\n'])}>`,
    () => pick(['</>', '</ >', '</9x href=no>', '</ a>']),
    () => pick(['<!-- <a href=c1> -->', '<!--><a href=c2>', '<!---><a href=c3>', '<!- x><a href=c4>', '<!><a href=c5>', '<!x><a href=c6>', '<![CDATA[ <a href=c7> ]]>', '<![CDAT <a href=c8>', '<?php <a href=c9> ?>', '<!-- a -- b --->', '<!--', '<!']),
    () => pick(['</script>', '</SCRIPT >', '</script/>', '</scripts>', '</script\t>', '</style>', '</title\n>', '</textarea>', '</xmp>', '<</script>']),
  ];
  return Array.from({ length: 1 + Math.floor(next() * 12) }, () => pick(pieces)()).join('');
}

describe('TagScanner', () => {
  test('reports the tags and attributes htmlparser2 Tokenizer finds, on 20,000 generated tag soups and cut-off prefixes of them', () => {
    const next = random(20261130);
    for (let i = 0; i < 20_000; i++) {
      const html = tagSoup(next);
      const cut = html.slice(0, Math.floor(next() * (html.length + 1)));
      for (const doc of [html, cut]) assert.deepEqual(scanned(doc), tokenized(doc), `document ${i}: ${JSON.stringify(doc)}`);
    }
  });

  test('tags in raw text, comments, declarations and attribute values are not tags; a tag cut off by the end is dropped', () => {
    const html = [
      `<A HREF="1" href="2" SRC='3' data-src=4 alt="<a href=x>">`,
      `<script type="x"><a href=in-script></script ><img src=after-script>`,
      `<script/><a href=after-self-closed-script>`,
      `<title><img src=in-title></title/><a href=still-title></TITLE>`,
      `<!--><a href=after-short-comment>`,
      `<!-><a href=swallowed>`,
      `<picture></picture x><img src=cut`,
    ].join('');
    assert.deepEqual(scanned(html), [
      '<a [["href","1"],["src","3"],["data-src","4"]]',
      '<img [["src","after-script"]]',
      '<a [["href","after-self-closed-script"]]',
      '<a [["href","after-short-comment"]]',
      '<picture []',
      '</picture',
    ]);
    assert.deepEqual(scanned(html), tokenized(html));
  });
});
