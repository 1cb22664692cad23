import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { MANIFEST_FILE } from '../../src/collection/layout';
import { ManifestWriter } from '../../src/collection/manifest';
import { GroupCommit, type StateIo } from '../../src/crawler/group-commit';
import type { Changes } from '../../src/crawler/page-visitor';
import { LeaseLostError, StateStore } from '../../src/nas/state-store';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'group-commit-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const stateDir = () => path.join(dir, 'state');
/** The journal as the next run reads it. */
const journal = async () => (await new StateStore(stateDir(), dir).load()).journal;
/** The journal file's text right now, synced or not. */
const journalText = async () => {
  const names = (await fs.readdir(stateDir())).filter((n) => n.startsWith('journal.'));
  return (await Promise.all(names.map((n) => fs.readFile(path.join(stateDir(), n), 'utf8')))).join('');
};

function setUp(storeFence = { number: 1, lost: false }, lease = { lost: false }) {
  const store = new StateStore(stateDir(), dir, storeFence);
  const io: StateIo = { loadMs: 0, writeMs: 0, writes: 0 };
  const synced: Changes[] = [];
  const writes = new GroupCommit(store, new ManifestWriter(dir), lease, io, (group) => synced.push(...group));
  return { store, io, synced, writes };
}

describe('GroupCommit: write ahead, sync behind', () => {
  test('lines are in the journal file before they are synced, in the order they were queued, and syncs are grouped', async () => {
    const { store, io, synced, writes } = setUp();
    await store.load();
    const queued: string[] = [];
    const order: string[] = [];
    // Four producers, as four pages in flight: each waits for its line to be written, then queues the next.
    await Promise.all(
      [0, 1, 2, 3].map(async (p) => {
        for (let i = 0; i < 50; i++) {
          const line = `line ${p}.${i}`;
          queued.push(line);
          const { written, synced: done } = writes.queue({ journal: [line] });
          void done.then(() => order.push(`synced ${line}`));
          await written;
          order.push(`written ${line}`);
          assert.ok((await journalText()).includes(`${line}\n`), `${line} is in the file once written`);
          await tick();
        }
      }),
    );
    await writes.settled();
    await store.close();
    assert.deepEqual(await journal(), queued, 'the journal holds the lines in the order they were queued');
    for (const line of queued) assert.ok(order.indexOf(`written ${line}`) < order.indexOf(`synced ${line}`), `${line}: written before synced`);
    assert.deepEqual(synced.map((c) => c.journal[0]), queued, 'onSynced sees every group, in order');
    assert.ok(io.writes < queued.length, `${io.writes} syncs for ${queued.length} lines`);
  });

  test("a group's manifest lines are on the NAS before the journal lines that record them are written", async () => {
    const { store, writes } = setUp();
    await store.load();
    const manifestLine = { file: 'img/x.png', sourceUrl: 'http://127.0.0.1/x.png', page: 'http://127.0.0.1/', width: 1, height: 1, bytes: 1, savedAt: new Date(0).toISOString() };
    const { written } = writes.queue({ journal: ['I x'], manifest: [manifestLine] });
    await written;
    assert.match(await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8'), /img\/x\.png/);
    await writes.settled();
    await store.close();
    assert.deepEqual(await journal(), ['I x']);
  });

  test('after a failed write nothing more is written, every later change is refused, and settled() reports the failure', async () => {
    const fence = { number: 1, lost: false };
    const { store, writes } = setUp(fence);
    await store.load();
    await writes.commit({ journal: ['kept'] });
    fence.lost = true; // the store refuses to write from now on
    const failed = writes.queue({ journal: ['refused'] });
    const later = writes.queue({ journal: ['after'] });
    await assert.rejects(failed.written, LeaseLostError);
    await assert.rejects(failed.synced, LeaseLostError);
    await assert.rejects(later.synced, LeaseLostError);
    fence.lost = false; // even when the store would take it again
    await assert.rejects(writes.commit({ journal: ['much later'] }), LeaseLostError);
    await assert.rejects(writes.settled(), LeaseLostError);
    await store.close();
    assert.deepEqual(await journal(), ['kept']);
  });

  test('once the lease is lost, changes settle without being written', async () => {
    const lease = { lost: false };
    const { store, writes } = setUp(undefined, lease);
    await store.load();
    await writes.commit({ journal: ['mine'] });
    lease.lost = true;
    await writes.commit({ journal: ['not mine any more'] });
    await writes.settled();
    await store.close();
    assert.deepEqual(await journal(), ['mine']);
  });
});
