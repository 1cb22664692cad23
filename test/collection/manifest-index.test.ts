import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { countFsCalls } from '../../bench/lib/fs-calls';
import { INDEX_FILE, MANIFEST_FILE } from '../../src/collection/layout';
import { ManifestWriter, readManifest, type ManifestLine } from '../../src/collection/manifest';
import { readManifestPage } from '../../src/collection/manifest-index';
import { tempNas } from '../image/nas-fixture';

const line = (i: number): ManifestLine => ({
  file: `img/${i.toString(16).padStart(64, '0')}.jpg`,
  sourceUrl: `https://example.org/photos/${i}.jpg`,
  page: 'https://example.org/',
  width: 100 + i,
  height: 50,
  bytes: 1000 + i,
  savedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => line(from + i));
const seqs = async (root: string, page: number, size = 10) => (await readManifestPage(root, page, size))!.lines.map((l) => l.width - 100);

describe('the manifest offset index', () => {
  it('pages newest first, in save order, across appends', async () => {
    const nas = await tempNas();
    try {
      const writer = new ManifestWriter(nas.root);
      await writer.append(range(0, 7));
      await writer.append(range(7, 25));
      assert.deepEqual(await seqs(nas.root, 1), [24, 23, 22, 21, 20, 19, 18, 17, 16, 15]);
      assert.deepEqual(await seqs(nas.root, 3), [4, 3, 2, 1, 0]);
      assert.deepEqual(await seqs(nas.root, 4), []);
      assert.equal((await readManifestPage(nas.root, 1, 10))!.total, 25);
      assert.equal(await readManifestPage(path.join(nas.root, 'nowhere'), 1, 10), undefined);
    } finally {
      await nas.cleanup();
    }
  });

  it('gone marks between image lines are not indexed, by the writer nor by a repair, and readManifest applies them', async () => {
    const nas = await tempNas();
    try {
      const writer = new ManifestWriter(nas.root);
      await writer.append(range(0, 3), [{ sourceUrl: line(1).sourceUrl, goneSince: '2026-06-01T00:00:00.000Z' }]);
      await writer.append(range(3, 5), [{ sourceUrl: line(4).sourceUrl, goneSince: '2026-06-02T00:00:00.000Z' }]);
      // A later run's writer repairs first: the marks after the last indexed line must not get records.
      await new ManifestWriter(nas.root).append([], [{ sourceUrl: line(1).sourceUrl, goneSince: null }]);
      await new ManifestWriter(nas.root).append(range(5, 6));
      assert.deepEqual(await seqs(nas.root, 1), [5, 4, 3, 2, 1, 0]);
      assert.equal((await readManifestPage(nas.root, 1, 10))!.total, 6);
      const entries = [...(await readManifest(nas.root)).values()];
      assert.equal(entries.find((e) => e.sourceUrls.includes(line(4).sourceUrl))?.goneSince, '2026-06-02T00:00:00.000Z');
      assert.equal(entries.find((e) => e.sourceUrls.includes(line(1).sourceUrl))?.goneSince, undefined, 'shown again');
      assert.equal(entries.filter((e) => e.goneSince).length, 1);
    } finally {
      await nas.cleanup();
    }
  });

  it('after a crash (index behind the manifest, torn record, torn line) the next writer repairs it; an old manifest gets an index', async () => {
    const nas = await tempNas();
    try {
      // A manifest written before the index existed, ending in a torn line.
      await writeFile(path.join(nas.root, MANIFEST_FILE), range(0, 5).map((l) => JSON.stringify(l) + '\n').join('') + '{"file":"img/');
      await new ManifestWriter(nas.root).append(range(5, 8));
      assert.deepEqual(await seqs(nas.root, 1), [7, 6, 5, 4, 3, 2, 1, 0], 'the torn line is skipped');
      // Crash: two lines reached the manifest but not the index, and half a record was written.
      await appendFile(path.join(nas.root, MANIFEST_FILE), range(8, 10).map((l) => JSON.stringify(l) + '\n').join(''));
      await appendFile(path.join(nas.root, INDEX_FILE), Buffer.alloc(3));
      assert.deepEqual((await seqs(nas.root, 1)).slice(0, 2), [7, 6], 'readers ignore the torn record and the unindexed tail');
      await new ManifestWriter(nas.root).append(range(10, 11));
      assert.deepEqual(await seqs(nas.root, 1, 20), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      assert.equal((await stat(path.join(nas.root, INDEX_FILE))).size % 8, 0);
      const text = await readFile(path.join(nas.root, MANIFEST_FILE), 'utf8');
      assert.equal(text.split('\n').filter(Boolean).length, 12, '11 whole lines and the torn one');
    } finally {
      await nas.cleanup();
    }
  });

  it('a page costs the same file-system calls at 2,000 and at 20,000 images', async () => {
    const calls: Record<string, number[]> = { first: [], deep: [] };
    for (const n of [2000, 20_000]) {
      const nas = await tempNas();
      try {
        const writer = new ManifestWriter(nas.root);
        for (let i = 0; i < n; i += 1000) await writer.append(range(i, i + 1000));
        for (const [which, page] of [['first', 1], ['deep', Math.floor(n / 24) - 1]] as const) {
          const { result, calls: count } = await countFsCalls(() => readManifestPage(nas.root, page, 24));
          assert.equal(result!.lines.length, 24);
          calls[which].push(count);
        }
      } finally {
        await nas.cleanup();
      }
    }
    // The first page stats the manifest for its end; a deeper page finds it in the next index record.
    assert.equal(calls.first[0], calls.first[1], `first page: ${calls.first.join(' vs ')}`);
    assert.equal(calls.deep[0], calls.deep[1], `deep page: ${calls.deep.join(' vs ')}`);
    assert.ok(calls.first[0] <= 6, `${calls.first[0]} calls`);
  });
});
