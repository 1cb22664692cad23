/**
 * The run's writes to the NAS: journal lines are written as soon as they are made, in the order they changed the
 * state, and synced in groups behind the writing (write ahead, sync behind). A written line outlives a crash or a
 * kill of the process; a synced one outlives the machine. A page waits for its attempt line to be written before
 * its request, and frees its slot without waiting for its last sync, so no fetch waits for a sync.
 */
import type { StateStore } from '../nas/state-store';
import type { ManifestWriter } from '../collection/manifest';
import type { Lease } from '../nas/lease';
import type { Changes } from './page-visitor';

export interface StateIo {
  /** Loading the snapshot and journal. */
  loadMs: number;
  /** Time with a manifest append or a journal sync under way (they overlap fetching), and compactions. */
  writeMs: number;
  writes: number;
}

export interface Queued {
  /** The lines are in the journal file: they outlive the process. */
  written: Promise<void>;
  /** The lines are synced, and so is every line before them. */
  synced: Promise<void>;
}

interface Entry {
  changes: Changes;
  written: Settler;
  synced: Settler;
}

interface Settler {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function settler(): Settler {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failure is latched and reported by settled(); a caller that does not wait for this promise must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function rejected(e: Error): Promise<void> {
  const failed = settler();
  failed.reject(e);
  return failed.promise;
}

/** Adds the time `work` takes to the run's state I/O figures. */
export async function timedIo(io: StateIo, work: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await work();
  } finally {
    io.writeMs += performance.now() - started;
    io.writes++;
  }
}

const DONE: Queued = { written: Promise.resolve(), synced: Promise.resolve() };

export class GroupCommit {
  /** Made, not yet written. */
  private pending: Entry[] = [];
  /** Written, not yet synced. */
  private unsynced: Entry[] = [];
  /** Being written now. */
  private beingWritten: Entry[] = [];
  private writing: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly store: StateStore,
    private readonly manifest: ManifestWriter,
    private readonly lease: Pick<Lease, 'lost'>,
    private readonly io: StateIo,
    /** Called with each group of changes once it is synced, in order. */
    private readonly onSynced: (changes: Changes[]) => void,
  ) {}

  /** Called in the same step as the state change that made the lines, so the journal holds them in that order. */
  queue(changes: Changes): Queued {
    if (this.lease.lost) return DONE; // another invocation owns the state now: write nothing
    // After a failed write nothing more is written: a later line must never be on the NAS without an earlier one.
    if (this.failure) return { written: rejected(this.failure), synced: rejected(this.failure) };
    const entry: Entry = { changes, written: settler(), synced: settler() };
    this.pending.push(entry);
    this.writing ??= this.write();
    return { written: entry.written.promise, synced: entry.synced.promise };
  }

  /** Settles once the changes are synced, together with those made meanwhile. */
  commit(changes: Changes): Promise<void> {
    return this.queue(changes).synced;
  }

  /** Waits for every queued change to be synced; rejects with the first write or sync that failed. */
  async settled(): Promise<void> {
    while (this.writing || this.syncing) await Promise.allSettled([this.writing, this.syncing]);
    if (this.failure) throw this.failure;
  }

  /** Images are already in img/; a group's manifest lines are synced first, then the journal lines that record them. */
  private async write(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.lease.lost && !this.failure) {
        this.beingWritten = this.pending.splice(0);
        const manifestLines = this.beingWritten.flatMap((e) => e.changes.manifest ?? []);
        const goneMarks = this.beingWritten.flatMap((e) => e.changes.gone ?? []);
        if (manifestLines.length + goneMarks.length > 0) await timedIo(this.io, () => this.manifest.append(manifestLines, goneMarks));
        await this.store.write(this.beingWritten.flatMap((e) => e.changes.journal));
        for (const e of this.beingWritten) e.written.resolve();
        this.unsynced.push(...this.beingWritten.splice(0));
        this.syncing ??= this.sync();
      }
    } catch (e) {
      this.fail(e as Error);
    } finally {
      // Cleared in the same step as the last check of `pending`, so a later change always starts a new write.
      this.writing = null;
      if (this.lease.lost) this.drop();
    }
  }

  /** Syncs what is written; what is written meanwhile waits for the next sync. */
  private async sync(): Promise<void> {
    try {
      while (this.unsynced.length > 0 && !this.lease.lost && !this.failure) {
        const batch = this.unsynced.splice(0);
        await timedIo(this.io, () => this.store.sync());
        for (const e of batch) e.synced.resolve();
        this.onSynced(batch.map((e) => e.changes));
      }
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.syncing = null;
      if (this.lease.lost) this.drop();
    }
  }

  /** Everything not yet synced: the unsynced, the group being written, the pending. */
  private takeAll(): Entry[] {
    return [...this.unsynced.splice(0), ...this.beingWritten.splice(0), ...this.pending.splice(0)];
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const entry of this.takeAll()) {
      entry.written.reject(this.failure);
      entry.synced.reject(this.failure);
    }
  }

  /** The lease is lost: what was not written never will be, and nobody waits for it. */
  private drop(): void {
    for (const entry of this.takeAll()) {
      entry.written.resolve();
      entry.synced.resolve();
    }
  }
}
