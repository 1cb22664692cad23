import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractRefs, largestSrcsetCandidate } from '../../src/crawler/extract';
import { inScope, registrableDomain } from '../../src/crawler/scope';
import { normaliseUrl } from '../../src/crawler/url';

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
