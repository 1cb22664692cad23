import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { writeFileAtomic } from '../../src/nas/atomic-write';
import { LeaseLostError, sectionLines, StateCorruptError, StateStore } from '../../src/nas/state-store';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'state-store-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A writer's lease, as the crawler passes it: a number and whether it was lost. */
const fence = (number: number) => ({ number, lost: false });
const open = (writer?: { number: number; lost: boolean }) => new StateStore(path.join(dir, 'state'), dir, writer);
const files = async () => (await fs.readdir(path.join(dir, 'state'))).sort();

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

  test('each writer appends to its own segment, which the next writer seals at the length it read', async () => {
    const first = open(fence(7));
    await first.load();
    await first.append(['one']);
    await first.close();
    assert.deepEqual(await files(), ['journal.0.7']);
    const second = open(fence(8));
    assert.deepEqual((await second.load()).journal, ['one']);
    await second.append(['two']);
    await second.close();
    assert.deepEqual(await files(), ['journal.0.7.4', 'journal.0.8']);
  });

  test('a torn last journal line is dropped, and the next append starts a fresh line', async () => {
    const store = open(fence(1));
    await store.load();
    await store.append(['one', 'two']);
    await store.close();
    await fs.appendFile(path.join(dir, 'state', 'journal.0.1'), 'thr'); // a kill in the middle of an append
    const reopened = open(fence(2));
    const loaded = await reopened.load();
    assert.deepEqual(loaded.journal, ['one', 'two']);
    assert.match(loaded.warnings.join(), /torn/);
    await reopened.append(['four']);
    await reopened.close();
    assert.deepEqual((await open(fence(3)).load()).journal, ['one', 'two', 'four']);
  });

  test("a stale holder's late appends never reach a later load", async () => {
    const stale = open(fence(1));
    await stale.load();
    await stale.append(['stale 1']);
    // Its lease expires while it stalls; holder 2 takes over, loads (sealing segment 1) and writes.
    const next = open(fence(2));
    assert.deepEqual((await next.load()).journal, ['stale 1']);
    await next.append(['next 1']);
    // The stale holder wakes up inside the instant between its lease check and its write.
    await stale.append(['stale 2 (late)']);
    await stale.close();
    await next.append(['next 2']);
    await next.close();
    assert.deepEqual((await open(fence(3)).load()).journal, ['stale 1', 'next 1', 'next 2']);

    // A stale holder that had not written yet creates its segment after a later holder loaded: ignored too.
    const late = open(fence(4));
    await late.load();
    const current = open(fence(5));
    await current.load();
    await current.append(['current']);
    await late.append(['late (never seen)']);
    await late.close();
    await current.close();
    const loaded = await open(fence(6)).load();
    assert.deepEqual(loaded.journal, ['stale 1', 'next 1', 'next 2', 'current']);
    assert.match(loaded.warnings.join(), /journal\.0\.4 was written by a holder that had lost its lease/);
  });

  test('a writer whose lease is lost cannot append or compact', async () => {
    const writer = { number: 1, lost: false };
    const store = open(writer);
    await store.load();
    await store.append(['kept']);
    writer.lost = true;
    await assert.rejects(store.append(['refused']), LeaseLostError);
    await assert.rejects(store.compact({ meta: {}, sections: {} }), LeaseLostError);
    await store.close();
    assert.deepEqual((await open(fence(2)).load()).journal, ['kept']);
  });

  test('a compaction never replaces a snapshot that another writer created', async () => {
    const a = open(fence(1));
    const b = open(fence(2));
    await a.load();
    await b.load();
    await b.compact({ meta: { by: 'b' }, sections: {} });
    await assert.rejects(a.compact({ meta: { by: 'a' }, sections: {} }), /EEXIST/);
    assert.deepEqual((await open(fence(3)).load()).snapshot?.meta, { by: 'b' });
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

  test('after the first compaction, a damaged snapshot.1 is recovered from the journal of generation 0', async () => {
    const store = open(fence(1));
    await store.load();
    await store.append(['x1', 'x2']);
    await store.close();
    const compactor = open(fence(2));
    await compactor.load();
    await compactor.compact({ meta: {}, sections: { items: ['x1', 'x2'] } }); // generation 1
    await compactor.append(['x3']);
    await compactor.close();
    await fs.writeFile(path.join(dir, 'state', 'snapshot.1'), 'garbage');
    const loaded = await open(fence(3)).load();
    assert.match(loaded.warnings.join(), /snapshot\.1 is damaged/);
    assert.equal(loaded.snapshot, null, 'rebuilt from the empty state before generation 1');
    assert.deepEqual(loaded.journal, ['x1', 'x2', 'x3']);
  });

  test('compaction keeps only the current and the previous generation', async () => {
    const store = open();
    await store.load();
    for (let i = 0; i < 4; i++) {
      await store.append([`line ${i}`]);
      await store.compact({ meta: { i }, sections: {} });
    }
    await store.close();
    assert.deepEqual(await files(), ['journal.3.1.7', 'snapshot.3', 'snapshot.4']);
  });

  test('many small segments make a compaction due, as a big journal does, so the folder stays bounded', async () => {
    const compactedAt: number[] = [];
    let mostFiles = 0;
    for (let writer = 1; writer <= 200; writer++) {
      const store = open(fence(writer));
      await store.load();
      if (store.compactionDue()) {
        compactedAt.push(writer);
        await store.compact({ meta: {}, sections: {} });
      }
      await store.append([`run ${writer}`]);
      await store.close();
      mostFiles = Math.max(mostFiles, (await files()).length);
    }
    assert.deepEqual(compactedAt, [17, 33, 49, 65, 81, 97, 113, 129, 145, 161, 177, 193], 'every 16 segments');
    assert.ok(mostFiles <= 2 * 16 + 2, `at most ${mostFiles} files: two generations of segments and snapshots`);
  });

  test('a big journal is streamed: a character split across read chunks and a 20 MB journal load exactly', async () => {
    const store = open(fence(1));
    await store.load();
    const line = 'é'.repeat(1000); // 2,000 bytes + newline: chunk boundaries fall inside a character
    await store.append(Array.from({ length: 10_000 }, () => line));
    await store.close();
    const loaded = await open(fence(2)).load();
    assert.equal(loaded.journal.length, 10_000);
    assert.ok(loaded.journal.every((l) => l === line));
  });

  test('the previous layout (journal.<g> without a lease) loads and is sealed as lease 0', async () => {
    const state = path.join(dir, 'state');
    await fs.mkdir(state);
    await fs.writeFile(path.join(state, 'journal.0'), 'old 1\nold 2\n');
    const loaded = await open(fence(1)).load();
    assert.deepEqual(loaded.journal, ['old 1', 'old 2']);
    assert.deepEqual(await files(), ['journal.0.0.12']);
  });

  test('when every snapshot is damaged, loading fails loudly instead of starting over', async () => {
    const store = open();
    await store.load();
    await store.append(['1']);
    await store.compact({ meta: {}, sections: { a: ['1'] } });
    await store.append(['2']);
    await store.compact({ meta: {}, sections: { a: ['1', '2'] } });
    await store.close();
    await fs.writeFile(path.join(dir, 'state', 'snapshot.1'), 'garbage');
    await fs.writeFile(path.join(dir, 'state', 'snapshot.2'), 'garbage');
    await assert.rejects(open().load(), StateCorruptError);
  });

  test('a first compaction of an empty state keeps generation 0 recoverable: a damaged snapshot.1 is rebuilt', async () => {
    const store = open(fence(1));
    await store.load();
    await store.compact({ meta: {}, sections: {} });
    await store.append(['line after the first compaction']);
    await store.close();
    await fs.writeFile(path.join(dir, 'state', 'snapshot.1'), 'garbage');
    const loaded = await open(fence(2)).load();
    assert.equal(loaded.snapshot, null);
    assert.deepEqual(loaded.journal, ['line after the first compaction']);
    assert.match(loaded.warnings.join('\n'), /snapshot\.1 is damaged/);
  });

  test('a damaged snapshot.1 with no journal of generation 0 fails loudly instead of starting over', async () => {
    const store = open();
    await store.load();
    await store.compact({ meta: {}, sections: { a: ['1'] } });
    await store.close();
    // The compaction left generation 0 an empty sealed segment (its journal was empty); here it is lost too.
    for (const name of await fs.readdir(path.join(dir, 'state'))) if (name.startsWith('journal.0.')) await fs.rm(path.join(dir, 'state', name));
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
