import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractRefs, largestSrcsetCandidate } from '../../src/crawler/extract';
import { inScope, registrableDomain } from '../../src/crawler/scope';
import { normaliseUrl, RefResolver } from '../../src/crawler/url';

describe('links and images', () => {
  test('links resolve against <base href> and are normalised, http(s) only, without duplicates', () => {
    const html = `<html><head><base href="/docs/"></head><body>
      <a href="a.html#part">a</a> <a href="a.html">a again</a> <a href="../b.html">b</a>
      <a href="HTTP://Example.COM:80/c">c</a> <a href="https://example.com:443/d?q=1#x">d</a>
      <a href="mailto:x@example.com">mail</a> <a href="javascript:alert(1)">js</a> <a href="ftp://example.com/f">ftp</a>
      <a href="http://[bad">broken</a> <a>no href</a></body></html>`;
    const { links } = extractRefs(html, 'http://example.com/pages/index.html');
    assert.deepEqual(links, ['http://example.com/docs/a.html', 'http://example.com/b.html', 'http://example.com/c', 'https://example.com/d?q=1']);
  });

  test('without <base>, links resolve against the page URL', () => {
    const { links } = extractRefs('<a href="x.html">x</a><a href="/y">y</a>', 'https://example.com/dir/page.html');
    assert.deepEqual(links, ['https://example.com/dir/x.html', 'https://example.com/y']);
  });

  test('images: each <img src> plus the largest srcset candidate', () => {
    const html = `<img src="/small.png" srcset="/s.png 300w, /l.png 1200w, /m.png 800w"><img src="/a.png"><img srcset="/x1.png 1x, /x3.png 3x, /x2.png 2x"><img src="data:image/png;base64,AAAA"><img src="/a.png">`;
    const { images } = extractRefs(html, 'https://example.com/');
    assert.deepEqual(images, ['https://example.com/small.png', 'https://example.com/l.png', 'https://example.com/a.png', 'https://example.com/x3.png']);
  });

  test('srcset candidates with commas in URLs and no descriptor', () => {
    assert.equal(largestSrcsetCandidate('/a.png'), '/a.png');
    assert.equal(largestSrcsetCandidate('/img,1.png 100w, /img,2.png 200w'), '/img,2.png');
  });

  test('normaliseUrl drops fragments and credentials, lower-cases the host and drops default ports', () => {
    assert.equal(normaliseUrl('HTTPS://User:pw@WWW.Example.com:443/A/./b/../c#frag'), 'https://www.example.com/A/c');
    assert.equal(normaliseUrl('http://example.com:8080'), 'http://example.com:8080/');
    assert.equal(normaliseUrl('file:///etc/passwd'), null);
    assert.equal(normaliseUrl('relative.html'), null);
  });
});

describe('scope', () => {
  const seed = new URL('https://www.example.com/');
  test('host, domain (by the Public Suffix List) and any', () => {
    assert.equal(inScope(new URL('https://www.example.com/x'), seed, 'host'), true);
    assert.equal(inScope(new URL('https://img.example.com/x'), seed, 'host'), false);
    // A bare host and its www. name are one site, whichever the seed names and whichever way it redirects.
    assert.equal(inScope(new URL('http://example.com/x'), seed, 'host'), true);
    assert.equal(inScope(new URL('https://www.example.com/x'), new URL('http://example.com/'), 'host'), true);
    assert.equal(inScope(new URL('https://www2.example.com/x'), new URL('http://example.com/'), 'host'), false);
    assert.equal(inScope(new URL('https://img.example.com/x'), seed, 'domain'), true);
    assert.equal(inScope(new URL('https://example.org/x'), seed, 'domain'), false);
    assert.equal(inScope(new URL('https://example.org/x'), seed, 'any'), true);
    assert.equal(registrableDomain('a.b.example.com'), 'example.com');
    assert.equal(registrableDomain('127.0.0.1'), '127.0.0.1');
    assert.equal(registrableDomain('localhost'), 'localhost');
  });

  test('domain scope does not spread over a public suffix such as co.uk or github.io', () => {
    const bbc = new URL('https://www.bbc.co.uk/');
    assert.equal(inScope(new URL('https://news.bbc.co.uk/x'), bbc, 'domain'), true);
    assert.equal(inScope(new URL('https://www.itv.co.uk/x'), bbc, 'domain'), false);
    const pages = new URL('https://alice.github.io/');
    assert.equal(inScope(new URL('https://img.alice.github.io/x'), pages, 'domain'), true);
    assert.equal(inScope(new URL('https://bob.github.io/x'), pages, 'domain'), false);
  });
});

describe('images of a modern page', () => {
  const page = 'https://example.com/dir/page.html';

  test('<picture><source srcset>: the largest candidate of each source of a storable type, then the <img>', () => {
    const html = `<picture>
      <source type="image/svg+xml" srcset="/v.svg"><source type="image/jxl" srcset="/j.jxl">
      <source type="image/avif" srcset="/a-1.avif 1x, /a-2.avif 2x"><source type=" IMAGE/WEBP " srcset="/w-s.webp 400w, /w-l.webp 900w">
      <source srcset="/untyped.jpg"><source media="(min-width: 800px)" data-srcset="/lazy-s.jpg 1x, /lazy-l.jpg 2x">
      <img src="/fallback.jpg"></picture><video><source src="/clip.mp4" srcset="/not-a-picture.jpg"></video>`;
    assert.deepEqual(extractRefs(html, page).images, ['/a-2.avif', '/w-l.webp', '/untyped.jpg', '/lazy-l.jpg', '/fallback.jpg'].map((p) => `https://example.com${p}`));
  });

  test('lazy attributes replace a placeholder src (empty, data: URI, spacer GIF); a real src is kept beside them', () => {
    const html = `<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="a.png">
      <img src="/img/spacer.gif" data-srcset="b1.png 1x, b2.png 2x"><img src="" data-lazy-src="c.png"><img data-original="d.png">
      <img src="/thumb.jpg" data-src="/full.jpg"><img src="/real.gif"><img src="/blank.gif" data-original="/e.png">`;
    assert.deepEqual(
      extractRefs(html, page).images,
      ['dir/a.png', 'dir/b2.png', 'dir/c.png', 'dir/d.png', 'thumb.jpg', 'full.jpg', 'real.gif', 'e.png'].map((p) => `https://example.com/${p}`),
    );
  });

  test('<meta property="og:image"> and <link rel="image_src">, resolved like any other reference', () => {
    const html = `<head><base href="/base/"><meta property="og:image" content="og.jpg"><meta property="og:image:secure_url" content="https://cdn.example.com/og.jpg">
      <meta name="og:image" content="not-a-property.jpg"><link rel="image_src" href="/src.jpg"><link rel="icon" href="/favicon.png"></head>`;
    assert.deepEqual(extractRefs(html, page).images, ['https://example.com/base/og.jpg', 'https://cdn.example.com/og.jpg', 'https://example.com/src.jpg']);
  });

  test('nofollow: rel="nofollow" links and every link of a robots nofollow/none page are dropped only when asked', () => {
    const html = `<a href="/a">a</a><a rel="Sponsored NOFOLLOW" href="/b">b</a><a rel="nofollowing" href="/c">c</a>`;
    assert.deepEqual(extractRefs(html, page, { nofollow: true }).links, ['https://example.com/a', 'https://example.com/c']);
    assert.deepEqual(extractRefs(html, page).links, ['https://example.com/a', 'https://example.com/b', 'https://example.com/c']);
    for (const content of ['nofollow', 'noindex,nofollow', 'NONE']) {
      const robots = `<meta name="Robots" content="${content}"><a href="/x">x</a><img src="/i.png">`;
      const refs = extractRefs(robots, page, { nofollow: true });
      assert.deepEqual(refs, { links: [], images: ['https://example.com/i.png'] }, content);
      assert.deepEqual(extractRefs(robots, page).links, ['https://example.com/x']);
    }
    assert.deepEqual(extractRefs('<meta name="robots" content="noindex"><a href="/x">x</a>', page, { nofollow: true }).links, ['https://example.com/x']);
  });

  test('<a href> to an image file stays a link: the response, not the extension, decides what it is', () => {
    const refs = extractRefs('<a href="/photos/full.jpg"><img src="/photos/thumb.jpg"></a>', page);
    assert.deepEqual(refs, { links: ['https://example.com/photos/full.jpg'], images: ['https://example.com/photos/thumb.jpg'] });
  });

  test('a Buffer body is read as UTF-8, entities in attributes are decoded', () => {
    const refs = extractRefs(Buffer.from('<a href="/caf\u00e9?a=1&amp;b=2">x</a>'), page);
    assert.deepEqual(refs.links, ['https://example.com/caf%C3%A9?a=1&b=2']);
  });

  test('a Buffer body gives what its UTF-8 text gives: non-ASCII values, entities that decode to non-ASCII, broken byte sequences, a BOM', () => {
    const bytes = Buffer.concat([
      Buffer.from('\ufeff<p>\u65e5\u672c\u8a9e\u306e\u30da\u30fc\u30b8</p><a href="/\u65e5\u672c/caf\u00e9.html">\u00e9</a>'),
      Buffer.from('<a href="/r&eacute;sum&#xe9;-\u00fc.html">x</a><img src="/\u56fe.png" alt="\u56fe"><a href="/bad-'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('.html">y</a><a href="/cut-'),
      Buffer.from([0xe6, 0x97]),
      Buffer.from('"><img data-src="/lazy-\u00e4.png" src="data:,">'),
    ]);
    const refs = extractRefs(bytes, page);
    assert.deepEqual(refs, extractRefs(bytes.toString('utf8'), page));
    assert.deepEqual(refs.links.slice(0, 2), ['https://example.com/%E6%97%A5%E6%9C%AC/caf%C3%A9.html', 'https://example.com/r%C3%A9sum%C3%A9-%C3%BC.html']);
    assert.deepEqual(refs.images, ['https://example.com/%E5%9B%BE.png', 'https://example.com/lazy-%C3%A4.png']);
  });

  test('tags and attributes read as an HTML parser reads them: any case, first of repeated attributes, entities, no tags inside script, comments or attribute values', () => {
    const html = `<A HREF="one.html" href="two.html">1</A> <IMG SRC="a&amp;b.png" Src="c.png">
      <!-- <a href="commented.html"> --> <script>document.write('<a href="scripted.html">')</script>
      <a title="<a href='inside.html'>" href="three.html?x=1&amp;y=&lt;2&gt;">3</a>
      <PICTURE><SOURCE SRCSET="p.webp 2x" TYPE="image/webp"></Picture> <source srcset="outside.webp">
      <div data-src="div.png"><a href="four.html"/><img/src="five.png">`;
    const refs = extractRefs(html, 'http://example.com/');
    assert.deepEqual(refs.links, ['http://example.com/one.html', 'http://example.com/three.html?x=1&y=%3C2%3E', 'http://example.com/four.html']);
    assert.deepEqual(refs.images, ['http://example.com/a&b.png', 'http://example.com/p.webp', 'http://example.com/five.png']);
  });
});

describe('RefResolver', () => {
  test('resolves every kind of reference exactly as normaliseUrl does', () => {
    const hrefs = [
      'a.html', 'a.html#x', 'a.html?q=1', 'a.html?q=1#f', '/abs/path', '/abs/path?x=y:z/?w', 'dir/', 'dir//x', '.html', '...', '.hidden/x',
      './a', '../a', 'a/./b', 'a/../b', 'a/..', '.', '..', '', '#only', '?only', '//other.example.org/x', 'http://EXAMPLE.com:80/x',
      'HTTPS://u:p@Example.com/x#y', 'mailto:x', 'javascript:void(0)', 'a:b', 'C:/x', '%2e%2e/x', 'a%20b', 'a b', ' padded.html ', 'a\\b',
      'a\tb', "q?it's", "it's", 'caf\u00e9', 'a"b', 'a<b>', 'a{b}', 'a`b', 'a|b', 'a^b', '/a@b!$&()*+,;=~-_.', 'x?a=%zz', '\u00a0x', 'a\nb',
      'data:image/png;base64,AAAA', 'http://[bad', '/x#\u00e9 \u0001', '../../a/./b/../c.html#d', 'a//../b', 'a/b/..', 'a/b/.', '/..', '../../../../x',
      './', '../', 'a/../', '?', 'a?', '?x#y', '#', '..?q', 'x/..#f', '.?', '/.', '/./x', 'a/.../b', 'a/..b/c', 'a/.b/../c', '/a/.b/../c', 'x/.b/./c', '.b/../c', 'a/.b/x/../c', 'a/..b/../c',
    ];
    const bases = ['http://example.com/pages/index.html', 'https://example.com:8443/a/b/?q=1#f', 'http://example.com', 'http://u:p@example.com/d/', 'ftp://example.com/x/', 'https://example.com/a%20b/c'];
    for (const base of bases) {
      const resolver = new RefResolver(base);
      for (const href of hrefs) assert.equal(resolver.resolve(href), normaliseUrl(href, base), `${JSON.stringify(href)} against ${base}`);
    }
  });
});
