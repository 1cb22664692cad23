import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, test } from 'node:test';
import { addressChecker, guardedLookup, refuseLiteralHost } from '../../src/crawler/ssrf';
import { crawlOnce, tempNasFolders, testConfig } from './helpers';
import { startTestSite, type TestSite } from './site';

const REFUSED = ['10.0.0.1', '169.254.169.254', '100.100.100.200', '127.0.0.1', '0.0.0.0', '192.168.1.1', '172.16.0.1', '224.0.0.1', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '64:ff9b::a00:1'];

describe('address policy', () => {
  test('refuses loopback, private, link-local, CGNAT/metadata, ULA, multicast and mapped forms by default', () => {
    const check = addressChecker(false);
    for (const ip of REFUSED) assert.ok(check(ip), ip);
    assert.equal(check('93.184.216.34'), null);
    assert.equal(check('2606:2800:220:1:248:1893:25c8:1946'), null);
  });

  test('a list allows only the addresses and ranges it names', () => {
    const check = addressChecker(['127.0.0.1', '10.1.0.0/16']);
    assert.equal(check('127.0.0.1'), null);
    assert.equal(check('::ffff:127.0.0.1'), null);
    assert.equal(check('10.1.2.3'), null);
    assert.ok(check('127.0.0.2'));
    assert.ok(check('10.2.0.1'));
    assert.ok(check('169.254.169.254'));
    assert.equal(addressChecker(true)('10.0.0.1'), null);
  });

  test('literal IP hosts are judged before connecting; names are left to the lookup', () => {
    const check = addressChecker(false);
    assert.match(refuseLiteralHost('100.100.100.200', check) ?? '', /carrierGradeNat/);
    assert.match(refuseLiteralHost('[::1]', check) ?? '', /loopback/);
    assert.equal(refuseLiteralHost('example.com', check), null);
  });

  test('the connection lookup refuses a name that resolves to a private address', async () => {
    const lookup = guardedLookup(addressChecker(false));
    const error = await new Promise<Error | null>((resolve) => lookup('localhost', { all: true }, (e) => resolve(e)));
    assert.match(String(error?.message), /localhost: refused loopback/);
  });
});

describe('SSRF refusal during a crawl', () => {
  let site: TestSite;
  const nasFolders = tempNasFolders();
  const connects: string[] = [];
  const onConnect = (message: unknown) => connects.push((message as { connectParams: { hostname: string } }).connectParams.hostname);
  const targets = ['http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/', 'http://100.100.100.200/latest/meta-data/'];
  before(async () => {
    const links = targets.map((t) => `<a href="${t}">x</a><img src="${t}image.png">`).join('');
    site = await startTestSite({ pages: 1, imagesPerPage: 0, features: false, homeExtra: `${links}<a href="/redirect/elsewhere">r</a>`, redirectElsewhere: 'http://169.254.169.254/' });
    diagnostics.subscribe('undici:client:beforeConnect', onConnect);
  });
  after(async () => {
    diagnostics.unsubscribe('undici:client:beforeConnect', onConnect);
    await site.close();
    await nasFolders.removeAll();
  });

  test('links and images to 10.0.0.1, 169.254.169.254 and 100.100.100.200 are refused without a connection attempt', async () => {
    const root = await nasFolders.make();
    connects.length = 0;
    const started = Date.now();
    const result = await crawlOnce(testConfig(site.url, root, { scope: 'any', requestTimeoutMs: 5000 }));
    assert.ok(Date.now() - started < 4000, 'refusals are immediate, not connect timeouts');
    assert.equal(result.done, true);
    const errors = result.errorStack.join('\n');
    for (const t of targets) {
      assert.match(errors, new RegExp(`${t.replace(/[./]/g, '\\$&')}: refused`), t);
      assert.match(errors, new RegExp(`${t.replace(/[./]/g, '\\$&')}image\\.png: refused`), `${t}image.png`);
    }
    assert.match(errors, /redirect\/elsewhere: refused linkLocal address 169\.254\.169\.254/);
    assert.deepEqual([...new Set(connects)], ['127.0.0.1'], 'only the test site was ever connected to');
  });

  test('without allowPrivateNetworks even the loopback seed is refused, and the site never sees a request', async () => {
    const root = await nasFolders.make();
    site.requests.length = 0;
    connects.length = 0;
    const result = await crawlOnce(testConfig(site.url, root, { allowPrivateNetworks: false }));
    assert.match(result.errorStack.join('\n'), /refused loopback address 127\.0\.0\.1/);
    assert.equal(result.failedCount, 1);
    assert.deepEqual(site.requests, []);
    assert.deepEqual(connects, []);
  });

  test('a host name that resolves to a private address is refused at connect time, without retries', async () => {
    const root = await nasFolders.make();
    site.requests.length = 0;
    const result = await crawlOnce(testConfig(site.url.replace('127.0.0.1', 'localhost'), root, { allowPrivateNetworks: false }));
    assert.match(result.errorStack.join('\n'), /localhost: refused loopback address/);
    assert.doesNotMatch(result.errorStack.join('\n'), /attempts/);
    assert.deepEqual(site.requests, []);
  });
});
