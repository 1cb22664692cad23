import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { refuseUnmountedNas } from '../../src/crawler/nas-mount';
import { encodeSnapshot, StateStore } from '../../src/nas/state-store';
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
      // As a newer crawler would leave it: a snapshot of its format and a journal line this version cannot read.
      const stateDir = path.join(root, 'crawl-state');
      await fs.mkdir(stateDir);
      await fs.writeFile(path.join(stateDir, 'snapshot.1'), encodeSnapshot(1, { meta: { version: 99, totalCrawlCount: 5 }, sections: { future: ['something new'] } }));
      await fs.writeFile(path.join(stateDir, 'journal.1'), 'Z\tsomething new\n');
      const contents = async () => {
        const names = (await fs.readdir(stateDir)).filter((n) => /^(snapshot|journal)/.test(n)).sort();
        const texts = await Promise.all(names.map((n) => fs.readFile(path.join(stateDir, n), 'latin1')));
        return { snapshots: names.filter((n) => n.startsWith('snapshot')), bytes: texts.join('') };
      };
      const before = await contents();
      const refused = await crawlOnce(testConfig(site.url, root));
      assert.match(refused.error ?? '', /newer crawler \(format version 99.*"reset": true.*keeps img\/ and manifest\.jsonl/);
      // The next holder may seal the journal it read (a rename that records its length), but nothing is rewritten.
      assert.deepEqual(await contents(), before, 'not compacted away as damage');
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
      // As version 1 left it: no snapshot yet, one journal in the layout of that time.
      await fs.mkdir(path.join(root, 'crawl-state'));
      await fs.writeFile(path.join(root, 'crawl-state', 'journal.0'), `P\t0\t${site.url}\nV\t${site.url}\nP\t1\t${site.origin}/page/0.html\n`);
      const logs: string[] = [];
      // refresh: false, so that the history alone decides (with revisits the seed would be scheduled again).
      const result = await crawlOnce(testConfig(site.url, root, { refresh: false }), logs);
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

describe('lease files removed by hand', () => {
  test('the next run takes a lease numbered above every journal segment, and goes on', async () => {
    const site = await startTestSite({ features: false, pages: 7, imagesPerPage: 1 });
    try {
      const root = await nasFolders.make();
      const stateDir = path.join(root, 'crawl-state');
      for (let run = 0; run < 3; run++) assert.equal((await crawlOnce(testConfig(site.url, root, { numberOfPages: 2 }))).error, undefined);
      for (const name of await fs.readdir(stateDir)) if (name.startsWith('lease.')) await fs.rm(path.join(stateDir, name));
      const after = await crawlOnce(testConfig(site.url, root));
      assert.equal(after.error, undefined);
      assert.equal(after.done, true);
      assert.equal((await savedImages(root)).size, site.expectedImages.size);
    } finally {
      await site.close();
    }
  });
});
