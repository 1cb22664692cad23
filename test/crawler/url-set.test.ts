import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UrlSet } from '../../src/crawler/url-set';

describe('UrlSet', () => {
  test('looks URLs up in the sorted bytes of a snapshot and in what was added since', () => {
    const base = new UrlSet(Buffer.from('https://a.example/\nhttps://b.example/x\nhttps://c.example/\n'));
    assert.equal(base.size, 3);
    for (const url of ['https://a.example/', 'https://b.example/x', 'https://c.example/']) assert.ok(base.has(url), url);
    for (const url of ['https://b.example/', 'https://b.example/xy', 'https://0.example/', 'https://d.example/']) assert.ok(!base.has(url), url);
    base.add('https://b.example/');
    base.add('https://z.example/');
    base.add('https://a.example/'); // already there
    assert.equal(base.size, 5);
    assert.ok(base.has('https://z.example/'));
  });

  test('bytes() merges the additions in order, and round-trips', () => {
    const set = new UrlSet(Buffer.from('http://b/\nhttp://d/\n'));
    for (const url of ['http://e/', 'http://a/', 'http://c/']) set.add(url);
    const bytes = set.bytes();
    assert.equal(bytes.toString(), 'http://a/\nhttp://b/\nhttp://c/\nhttp://d/\nhttp://e/\n');
    const again = new UrlSet(bytes);
    assert.equal(again.size, 5);
    assert.ok(['http://a/', 'http://c/', 'http://e/'].every((u) => again.has(u)));
    assert.equal(new UrlSet().bytes().length, 0);
  });
});
