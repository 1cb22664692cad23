import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { writeFileAtomic } from '../../src/nas/atomic-write';
import { sectionLines, StateCorruptError, StateStore } from '../../src/nas/state-store';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'state-store-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const open = () => new StateStore(path.join(dir, 'state'), dir);

describe('StateStore', () => {
  test('journal lines survive a reopen, and a snapshot replaces them', async () => {
    const store = open();
    assert.equal((await store.load()).snapshot, null);
    await store.append(['a', 'b']);
    await store.append(['c']);
    await store.close();
    const again = open();
    const loaded = await again.load();
    assert.deepEqual(loaded.journal, ['a', 'b', 'c']);
    await again.compact({ meta: { n: 3 }, sections: { letters: ['a', 'b', 'c'], empty: [] } });
    await again.append(['d']);
    await again.close();
    const third = await open().load();
    assert.deepEqual(third.snapshot?.meta, { n: 3 });
    assert.deepEqual(sectionLines(third.snapshot?.sections.letters), ['a', 'b', 'c']);
    assert.deepEqual(sectionLines(third.snapshot?.sections.empty), []);
    assert.deepEqual(third.journal, ['d']);
    assert.equal(third.generation, 1);
  });

  test('a torn last journal line is dropped, and the next append starts a fresh line', async () => {
    const store = open();
    await store.load();
    await store.append(['one', 'two']);
    await store.close();
    await fs.appendFile(path.join(dir, 'state', 'journal.0'), 'thr'); // a kill in the middle of an append
    const reopened = open();
    const loaded = await reopened.load();
    assert.deepEqual(loaded.journal, ['one', 'two']);
    assert.match(loaded.warnings.join(), /torn/);
    await reopened.append(['four']);
    await reopened.close();
    assert.deepEqual((await open().load()).journal, ['one', 'two', 'four']);
  });

  test('a damaged newest snapshot is recovered from the previous one plus both journals', async () => {
    const store = open();
    await store.load();
    await store.append(['x1']);
    await store.compact({ meta: {}, sections: { items: ['x1'] } }); // generation 1
    await store.append(['x2']);
    await store.compact({ meta: {}, sections: { items: ['x1', 'x2'] } }); // generation 2
    await store.append(['x3']);
    await store.close();
    const newest = path.join(dir, 'state', 'snapshot.2');
    const text = await fs.readFile(newest, 'utf8');
    await fs.writeFile(newest, text.replace('x2', 'y2')); // bit rot
    const loaded = await open().load();
    assert.match(loaded.warnings.join(), /snapshot\.2 is damaged/);
    assert.deepEqual(sectionLines(loaded.snapshot?.sections.items), ['x1']);
    assert.deepEqual(loaded.journal, ['x2', 'x3']);
    assert.equal(loaded.generation, 2);
  });

  test('compaction keeps only the current and the previous generation', async () => {
    const store = open();
    await store.load();
    for (let i = 0; i < 4; i++) {
      await store.append([`line ${i}`]);
      await store.compact({ meta: { i }, sections: {} });
    }
    await store.close();
    const files = (await fs.readdir(path.join(dir, 'state'))).sort();
    assert.deepEqual(files, ['journal.3', 'snapshot.3', 'snapshot.4']);
  });

  test('when every snapshot is damaged, loading fails loudly instead of starting over', async () => {
    const store = open();
    await store.load();
    await store.compact({ meta: {}, sections: { a: ['1'] } });
    await store.close();
    await fs.writeFile(path.join(dir, 'state', 'snapshot.1'), 'garbage');
    await assert.rejects(open().load(), StateCorruptError);
  });
});

describe('writeFileAtomic', () => {
  test('replaces the whole file and leaves no temp file behind', async () => {
    const target = path.join(dir, 'file.txt');
    await writeFileAtomic(target, 'old');
    await writeFileAtomic(target, 'new content');
    assert.equal(await fs.readFile(target, 'utf8'), 'new content');
    assert.deepEqual(await fs.readdir(dir), ['file.txt']);
  });
});
