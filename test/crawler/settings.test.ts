import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { refuseUnmountedNas } from '../../src/crawler/nas-mount';
import { StateStore } from '../../src/nas/state-store';
import { crawlOnce, savedImages, tempNasFolders, testConfig } from './helpers';
import { startTestSite } from './site';

const nasFolders = tempNasFolders();
after(() => nasFolders.removeAll());

describe('settings kept with the state (issue 11 §6)', () => {
  test('a changed seed is pushed and logged; a changed scope drops waiting pages outside it', async () => {
    const site = await startTestSite({ features: true, pages: 3, imagesPerPage: 0, extraPages: { '/other-seed.html': '<a href="/page/2.html">2</a>' } });
    try {
      const root = await nasFolders.make();
      // scope "any": the home page's link to the same site under "localhost" waits in the frontier.
      await crawlOnce(testConfig(site.url, root, { numberOfPages: 1, scope: 'any' }));
      const logs: string[] = [];
      const result = await crawlOnce(testConfig(`${site.origin}/other-seed.html`, root), logs);
      assert.ok(!site.requests.some((r) => r.startsWith('localhost')), 'the page outside the new scope was dropped, not fetched');
      assert.ok(site.requests.some((r) => r.endsWith(' /other-seed.html')), 'the new seed was crawled');
      const changed = logs.map((l) => JSON.parse(l) as { msg: string; dropped?: number }).find((l) => l.msg.startsWith('crawl settings changed'));
      assert.equal(changed?.dropped, 1);
      assert.equal(result.frontierSize, 0);
    } finally {
      await site.close();
    }
  });
});

describe('an unmounted NAS on FC (issue 11 §6)', () => {
  test('on FC, a rootDir that is NAS_ROOT but not a mount point is refused with a clear error; locally it is not checked', async () => {
    const root = await nasFolders.make();
    const fc = { FC_FUNCTION_NAME: 'crawler', NAS_ROOT: root };
    await assert.rejects(refuseUnmountedNas(root, fc), /not a mount point .*the NAS is not mounted/);
    await refuseUnmountedNas(root, { NAS_ROOT: root }); // local: off
    await refuseUnmountedNas(path.join(root, 'elsewhere'), fc); // not the configured NAS_ROOT: the user chose it
    // /proc is a mount point on Linux (its device differs from /'s).
    await refuseUnmountedNas('/proc', { FC_FUNC_CODE_PATH: '/code', NAS_ROOT: '/proc' });
    const result = await crawlOnce(testConfig('http://127.0.0.1:9/', root), [], 'fc', { env: fc });
    assert.match(result.error ?? '', /rootDir .* is not a mount point/);
    assert.deepEqual(await fs.readdir(root), [], 'nothing was written');
  });
});

describe('state format version (issue 11 §6)', () => {
  test('a newer format is refused with an error that names reset and what it keeps; reset starts over', async () => {
    const site = await startTestSite({ features: false, pages: 1, imagesPerPage: 1 });
    try {
      const root = await nasFolders.make();
      const store = new StateStore(path.join(root, 'crawl-state'), root);
      await store.load();
      await store.compact({ meta: { version: 99, totalCrawlCount: 5 }, sections: { future: ['something new'] } });
      await store.append(['Z\tsomething new']);
      await store.close();
      const before = (await fs.readdir(path.join(root, 'crawl-state'))).sort();
      const refused = await crawlOnce(testConfig(site.url, root));
      assert.match(refused.error ?? '', /newer crawler \(format version 99.*"reset": true.*keeps img\/ and manifest\.jsonl/);
      assert.deepEqual((await fs.readdir(path.join(root, 'crawl-state'))).filter((n) => /^(snapshot|journal)/.test(n)).sort(), before, 'not compacted away as damage');
      const reset = await crawlOnce(testConfig(site.url, root, { reset: true }));
      assert.equal(reset.error, undefined);
      assert.equal(reset.done, true);
    } finally {
      await site.close();
    }
  });

  test('a version-1 state (a version-1 snapshot and P/V lines) is read and migrated', async () => {
    const site = await startTestSite({ features: false, pages: 3, imagesPerPage: 1 });
    try {
      const root = await nasFolders.make();
      const store = new StateStore(path.join(root, 'crawl-state'), root);
      await store.load();
      await store.compact({ meta: { version: 1, totalCrawlCount: 0 }, sections: { history: [], failed: [], frontier: [`0\t${site.url}`], imageUrls: [], images: [] } });
      await store.append([`V\t${site.url}`, `P\t1\t${site.origin}/page/0.html`]);
      await store.close();
      const logs: string[] = [];
      const result = await crawlOnce(testConfig(site.url, root), logs);
      assert.equal(result.error, undefined);
      assert.equal(result.done, true);
      assert.equal(result.totalCrawlCount, 4);
      assert.ok(!site.requests.some((r) => r.endsWith(' /')), 'the home page was visited by version 1');
      assert.equal((await savedImages(root)).size, 3);
      const snapshot = (await new StateStore(path.join(root, 'crawl-state'), root).load()).snapshot;
      assert.equal(snapshot?.meta.version, 2);
    } finally {
      await site.close();
    }
  });
});
