import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCrawlPayload } from '../../src/crawler/payload';

const parse = (payload: unknown, env: NodeJS.ProcessEnv = {}) => parseCrawlPayload(payload, env);

describe('crawler payload', () => {
  test('the original fields get their documented defaults', () => {
    const r = parse({ url: 'https://example.com/' });
    assert.ok(r.ok);
    const c = r.value.config;
    assert.equal(c.rootDir, '/mnt/crawler');
    assert.equal(c.numberOfPages, 50);
    assert.equal(c.cutoffSize, 10);
    assert.equal(c.debug, false);
    assert.equal(c.order, 'dfs');
    assert.equal(c.scope, 'host');
    assert.equal(c.concurrency, 4);
    assert.equal(c.respectRobots, true);
    assert.equal(c.maxImageBytes, 20 * 1024 * 1024);
    assert.equal(c.allowPrivateNetworks, false);
    assert.equal(c.reset, false);
    assert.equal(c.maxDepth, undefined);
    assert.deepEqual(r.value.warnings, []);
  });

  test('rootDir defaults to NAS_ROOT', () => {
    const r = parse({ url: 'https://example.com/' }, { NAS_ROOT: '/mnt/nas' });
    assert.ok(r.ok);
    assert.equal(r.value.config.rootDir, '/mnt/nas');
  });

  test('numberOfPages 0 or negative is an error, never a silent 0', () => {
    for (const n of [0, -3, 1.5, '10']) {
      const r = parse({ url: 'https://example.com/', numberOfPages: n });
      assert.equal(r.ok, false, `numberOfPages ${n}`);
      if (!r.ok) assert.match(r.error, /numberOfPages/);
    }
  });

  test('bad values get a clear error naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{}, /url/],
      [{ url: 'ftp://example.com/' }, /url: must be an absolute http\(s\) URL/],
      [{ url: 'not a url' }, /url/],
      [{ url: 'https://e.com/', order: 'random' }, /order/],
      [{ url: 'https://e.com/', scope: 'planet' }, /scope/],
      [{ url: 'https://e.com/', concurrency: 0 }, /concurrency/],
      [{ url: 'https://e.com/', allowPrivateNetworks: ['not-an-ip'] }, /allowPrivateNetworks/],
      [{ url: 'https://e.com/', cutoffSize: -1 }, /cutoffSize/],
      [['https://e.com/'], /JSON object/],
      [null, /JSON object/],
    ];
    for (const [payload, message] of cases) {
      const r = parse(payload);
      assert.equal(r.ok, false, JSON.stringify(payload));
      if (!r.ok) assert.match(r.error, message);
    }
  });

  test('allowPrivateNetworks takes a boolean or a list of IPs and CIDR ranges', () => {
    const r = parse({ url: 'http://127.0.0.1:8080/', allowPrivateNetworks: ['127.0.0.1', '10.0.0.0/8', '::1'] });
    assert.ok(r.ok);
    assert.deepEqual(r.value.config.allowPrivateNetworks, ['127.0.0.1', '10.0.0.0/8', '::1']);
  });

  test('an unknown field is a warning, not an error', () => {
    const r = parse({ url: 'https://example.com/', numberOfPage: 5 });
    assert.ok(r.ok);
    assert.deepEqual(r.value.warnings, ['unknown payload field "numberOfPage" is ignored']);
    assert.equal(r.value.config.numberOfPages, 50);
  });

  test('politeness and sitemap fields: defaults, durations as seconds or text, bad values named', () => {
    const d = parse({ url: 'https://example.com/' });
    assert.ok(d.ok);
    assert.equal(d.value.config.maxCrawlDelay, 10_000);
    assert.equal(d.value.config.hostDelayMs, 0);
    assert.equal(d.value.config.sitemaps, true);
    for (const [given, ms] of [[3, 3000], ['2m', 120_000], ['500ms', 500], [0, 0]] as const) {
      const r = parse({ url: 'https://example.com/', maxCrawlDelay: given });
      assert.ok(r.ok, String(given));
      assert.equal(r.value.config.maxCrawlDelay, ms);
    }
    for (const bad of [{ maxCrawlDelay: 'soon' }, { maxCrawlDelay: -1 }, { hostDelayMs: -5 }, { hostDelayMs: 1.5 }, { sitemaps: 'yes' }]) {
      const r = parse({ url: 'https://example.com/', ...bad });
      assert.equal(r.ok, false, JSON.stringify(bad));
      if (!r.ok) assert.match(r.error, new RegExp(Object.keys(bad)[0]));
    }
  });
});
