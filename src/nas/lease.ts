/**
 * A lease on a directory of the shared NAS, so that overlapping invocations never work at once.
 *
 * Leases are numbered files `lease.<n>` created with O_CREAT|O_EXCL (atomic on NFS). The holder is the highest
 * number; taking over a released or expired lease means creating `lease.<n+1>`, which only one contender can do.
 * The number fences the holder's writes: the state store names its journal segment after it (see state-store.ts).
 *
 * No decision compares the clocks of two machines (docs/reliability.md):
 * - The holder renews by rewriting its file (temp file + rename), which sets the file's mtime to the NAS server's
 *   time. A contender learns the server's time now from a probe file it writes itself, and calls the lease expired
 *   when the lease file has not changed for `ttlMs` of server time.
 * - The holder judges its own expiry by its own monotonic clock: once its last successful renewal started more than
 *   `ttlMs - margin` ago, `lost` is true for good and it must not write again. A contender waits a full `ttlMs`
 *   from the renewal's mtime, which is later than its start, so the holder stops before anyone can take over.
 * On the same host (same hostname, boot and PID namespace) a dead PID frees a lease at once.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log';
import { writeFileAtomic } from './atomic-write';

export interface LeaseOwner {
  host: string;
  pid: number;
  requestId: string;
}

/** What a lease file holds. The times are the holder's wall clock, for people reading the file; no decision uses them. */
interface LeaseRecord {
  token: string;
  owner: LeaseOwner;
  acquiredAt: string;
  renewedAt: string;
  released: boolean;
}

export interface Lease {
  readonly token: string;
  /** The lease number: higher for every later holder, so it orders and fences their writes. */
  readonly number: number;
  /** True once another holder may have taken over (taken over, or not renewed in time): stop writing at once. */
  readonly lost: boolean;
  release(): Promise<void>;
}

export interface LeaseOptions {
  requestId: string;
  logger: Logger;
  /** How long a lease lives without a heartbeat, in NAS server time. */
  ttlMs?: number;
  heartbeatMs?: number;
  /**
   * Where heartbeat rewrites put their temp files (same file system); default: `dir`. A new holder removes the
   * entries in it that nobody has touched for `ttlMs` of server time: left by holders that are gone.
   */
  tempDir?: string;
}

export const DEFAULT_LEASE_TTL_MS = 20_000;
const LEASE_FILE = /^lease\.(\d+)$/;
const PROBE_FILE = /^probe\./;

/** Identifies this kernel and PID namespace, so PIDs are compared only where they mean the same process. */
export const thisHost: string = (() => {
  const read = (f: () => string) => {
    try {
      return f().trim();
    } catch {
      return 'unknown';
    }
  };
  const boot = read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
  const pidNs = read(() => readlinkSync('/proc/self/ns/pid'));
  return `${os.hostname()}/${boot}/${pidNs}`;
})();

/** Tokens of the leases this process holds, so an orphan left by a crashed invocation in this process is known. */
const heldHere = new Set<string>();

function processIsDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function timing(options: LeaseOptions) {
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const heartbeatMs = options.heartbeatMs ?? Math.max(25, Math.floor(ttlMs / 4));
  // The holder gives up a quarter of the TTL early: two missed heartbeats are tolerated, a third is loss.
  return { ttlMs, heartbeatMs, ownDeadlineMs: ttlMs - ttlMs / 4 };
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Journal segments in the same folder carry the number of the lease that wrote them (state-store.ts). Numbering
 * continues above them, so lease files removed by hand can never make a new holder look older than the state.
 */
const SEGMENT_FILE = /^journal\.\d+\.(\d+)(?:\.\d+)?$/;

/** The names in `dir` and the highest lease number among them. */
async function listLeases(dir: string): Promise<{ names: string[]; latest: number }> {
  const names = await fs.readdir(dir);
  let latest = 0;
  for (const name of names) {
    const m = LEASE_FILE.exec(name) ?? SEGMENT_FILE.exec(name);
    if (m) latest = Math.max(latest, Number(m[1]));
  }
  return { names, latest };
}

interface LeaseFile {
  /** Null when the file is empty or torn: its creator died between O_EXCL and the write, or is in that instant. */
  record: LeaseRecord | null;
  /** Set by the NAS server at the last heartbeat. */
  mtimeMs: number;
}

/** Reads the lease and its mtime through one open handle (on NFS, open revalidates the cached attributes). */
async function readLease(file: string): Promise<LeaseFile | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
  try {
    const text = await handle.readFile('utf8');
    const { mtimeMs } = await handle.stat();
    try {
      return { record: JSON.parse(text) as LeaseRecord, mtimeMs };
    } catch {
      return { record: null, mtimeMs };
    }
  } finally {
    await handle.close();
  }
}

/** The NAS server's time now: the mtime of a file written and synced just now. */
async function serverNow(dir: string): Promise<number> {
  const probe = path.join(dir, `probe.${randomUUID()}`);
  const handle = await fs.open(probe, 'wx');
  try {
    await handle.write('probe');
    await handle.datasync();
    return (await handle.stat()).mtimeMs;
  } finally {
    await handle.close();
    await fs.rm(probe, { force: true });
  }
}

/** Free without asking the server's time: released, or its holder is a dead process on this host. */
function freeOnSight(record: LeaseRecord | null): boolean {
  if (!record) return false;
  if (record.released) return true;
  if (record.owner.host !== thisHost) return false;
  if (record.owner.pid === process.pid) return !heldHere.has(record.token);
  return processIsDead(record.owner.pid);
}

/** Takes the lease on `dir`, or returns null (promptly) when a live holder has it. */
export async function acquireLease(dir: string, options: LeaseOptions): Promise<Lease | null> {
  const { ttlMs } = timing(options);
  await fs.mkdir(dir, { recursive: true });

  const { latest } = await listLeases(dir);
  let previousGone = true;
  if (latest > 0) {
    const current = await readLease(path.join(dir, `lease.${latest}`));
    previousGone = !current || freeOnSight(current.record);
    if (!previousGone) {
      const quietMs = (await serverNow(dir)) - current!.mtimeMs;
      if (quietMs <= ttlMs) {
        options.logger.info('lease held by another invocation', { lease: latest, owner: current!.record?.owner ?? null, quietMs: Math.round(quietMs) });
        return null;
      }
      options.logger.warn('lease expired: taking over', { lease: latest, owner: current?.record?.owner ?? null, quietMs: Math.round(quietMs) });
    }
  }

  return claimLease(dir, latest + 1, options, previousGone);
}

/**
 * Creates `lease.<n>` for a contender that found `lease.<n-1>` free. Its view may be stale: while it stalled,
 * others may have taken `lease.<n>`, released it and moved on, the next holder deleting it as an old lease, so
 * O_EXCL alone could hand out a number below the current one. Only a claim that is still the highest stands.
 * `previousGone`: the previous holder released its lease or died on this host, so no temp file is anyone's any more.
 */
export async function claimLease(dir: string, n: number, options: LeaseOptions, previousGone = false): Promise<Lease | null> {
  const { ttlMs, heartbeatMs, ownDeadlineMs } = timing(options);
  const claimStarted = performance.now();
  const file = path.join(dir, `lease.${n}`);
  const stamp = new Date().toISOString();
  const record: LeaseRecord = { token: randomUUID(), owner: { host: thisHost, pid: process.pid, requestId: options.requestId }, acquiredAt: stamp, renewedAt: stamp, released: false };
  try {
    await fs.writeFile(file, JSON.stringify(record), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      options.logger.info('lease taken by a concurrent invocation', { lease: n });
      return null;
    }
    // The file was created by us but not filled (e.g. ENOSPC): an empty lease would lock out the next runs until it
    // aged out, so take it back.
    await fs.rm(file, { force: true }).catch((rmError: unknown) => options.logger.error('could not remove a failed lease file', { file, error: rmError }));
    throw e;
  }
  const { names, latest } = await listLeases(dir);
  if (latest !== n) {
    await fs.rm(file, { force: true });
    options.logger.info('lease superseded while it was being taken', { lease: n, latest });
    return null;
  }
  heldHere.add(record.token);
  const tempDir = options.tempDir ?? dir;
  const lease = startHeartbeat(dir, n, record, { ttlMs, heartbeatMs, ownDeadlineMs, renewedAt: claimStarted, tempDir, logger: options.logger });
  try {
    await removeLeftovers(dir, names, n, { ttlMs, previousGone, tempDir: options.tempDir });
  } catch (e) {
    await lease.release();
    throw e;
  }
  return lease;
}

/**
 * Keeps the folder bounded at a constant cost: deletes only what the listing returned, older lease files and the
 * probes of contenders killed mid-probe; then the temp entries of holders that are gone: all of them when the
 * previous holder is provably gone, else those nobody touched for a full TTL of server time.
 */
async function removeLeftovers(dir: string, names: string[], n: number, { ttlMs, previousGone, tempDir }: { ttlMs: number; previousGone: boolean; tempDir?: string }): Promise<void> {
  const own = await fs.stat(path.join(dir, `lease.${n}`));
  const now = own.mtimeMs; // server time: our lease file was just written
  for (const name of names) {
    const m = LEASE_FILE.exec(name);
    if (m && Number(m[1]) < n) await fs.rm(path.join(dir, name), { force: true });
    else if (PROBE_FILE.test(name)) await removeIfQuiet(path.join(dir, name), now, ttlMs);
  }
  if (tempDir && tempDir !== dir) {
    let temps: string[] = [];
    try {
      temps = await fs.readdir(tempDir);
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
    for (const name of temps) await removeIfQuiet(path.join(tempDir, name), now, previousGone ? -1 : ttlMs);
  }
}

/** An entry written within `quietMs` may belong to a holder that still renames it; older ones are dead (-1: all are). */
async function removeIfQuiet(entry: string, serverNowMs: number, quietMs: number): Promise<void> {
  if (quietMs < 0) {
    await fs.rm(entry, { force: true, recursive: true });
    return;
  }
  let newest: number;
  try {
    newest = await newestMtime(entry);
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  if (serverNowMs - newest > quietMs) await fs.rm(entry, { force: true, recursive: true });
}

async function newestMtime(entry: string): Promise<number> {
  const stat = await fs.lstat(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of await fs.readdir(entry)) newest = Math.max(newest, await newestMtime(path.join(entry, name)));
  return newest;
}

interface HeartbeatOptions {
  ttlMs: number;
  heartbeatMs: number;
  ownDeadlineMs: number;
  /** performance.now() when the claim started: the first "renewal". */
  renewedAt: number;
  tempDir: string;
  logger: Logger;
}

function startHeartbeat(dir: string, n: number, record: LeaseRecord, options: HeartbeatOptions): Lease {
  const { heartbeatMs, ownDeadlineMs, tempDir, logger } = options;
  const file = path.join(dir, `lease.${n}`);
  let renewedAt = options.renewedAt;
  let lostForGood = false;
  let renewing: Promise<void> = Promise.resolve();

  const isLost = () => {
    if (!lostForGood && performance.now() - renewedAt > ownDeadlineMs) {
      lostForGood = true;
      logger.error('lease lost: not renewed in time, writing stops', { lease: n, sinceRenewalMs: Math.round(performance.now() - renewedAt) });
    }
    return lostForGood;
  };
  const renew = async () => {
    if (isLost()) return;
    const started = performance.now();
    if ((await listLeases(dir)).latest !== n) {
      lostForGood = true;
      logger.error('lease lost: another invocation took over', { lease: n });
      return;
    }
    await writeFileAtomic(file, JSON.stringify({ ...record, renewedAt: new Date().toISOString() }), tempDir);
    // Counted from before the write: its mtime (what contenders judge by) is later than this.
    if (!isLost()) renewedAt = started;
  };
  const timer = setInterval(() => {
    renewing = renewing.then(renew).catch((e: unknown) => logger.error('lease heartbeat failed; the lease is lost if this goes on', { lease: n, error: e }));
  }, heartbeatMs);
  timer.unref();

  return {
    token: record.token,
    number: n,
    get lost() {
      return isLost();
    },
    async release() {
      clearInterval(timer);
      await renewing;
      heldHere.delete(record.token);
      if (isLost() || (await listLeases(dir)).latest !== n) return;
      await writeFileAtomic(file, JSON.stringify({ ...record, renewedAt: new Date().toISOString(), released: true }), tempDir);
    },
  };
}
