/**
 * A lease on a directory of the shared NAS, so that overlapping invocations never work at once.
 *
 * Leases are numbered files `lease.<n>` created with O_CREAT|O_EXCL (atomic on NFS). The holder is the highest
 * number; taking over a released or expired lease means creating `lease.<n+1>`, which only one contender can do.
 * The holder renews its expiry with a heartbeat (rewriting its own file by rename), so a killed holder's lease
 * lapses within `ttlMs`. On the same host (same hostname, boot and PID namespace) a dead PID frees it at once.
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

interface LeaseRecord {
  token: string;
  owner: LeaseOwner;
  acquiredAt: number;
  expiresAt: number;
  released: boolean;
}

export interface Lease {
  readonly token: string;
  /** Becomes true when the heartbeat finds that another holder took over: stop writing at once. */
  readonly lost: boolean;
  release(): Promise<void>;
}

export interface LeaseOptions {
  requestId: string;
  logger: Logger;
  /** How long a lease lives without a heartbeat. */
  ttlMs?: number;
  heartbeatMs?: number;
  /** Where heartbeat rewrites put their temp files (same file system); default: `dir`. */
  tempDir?: string;
  now?: () => number;
}

export const DEFAULT_LEASE_TTL_MS = 20_000;
const LEASE_FILE = /^lease\.(\d+)$/;

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

function isFree(record: LeaseRecord, now: number): boolean {
  if (record.released || record.expiresAt <= now) return true;
  if (record.owner.host !== thisHost) return false;
  if (record.owner.pid === process.pid) return !heldHere.has(record.token);
  return processIsDead(record.owner.pid);
}

async function latestLease(dir: string): Promise<number> {
  const names = await fs.readdir(dir);
  let latest = 0;
  for (const name of names) {
    const m = LEASE_FILE.exec(name);
    if (m) latest = Math.max(latest, Number(m[1]));
  }
  return latest;
}

/** The lease record, or null when there is none; an unreadable (torn) record is taken to expire `ttlMs` after its mtime. */
async function readRecord(file: string, ttlMs: number): Promise<LeaseRecord | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    return JSON.parse(text) as LeaseRecord;
  } catch {
    // Its creator died between O_EXCL and write, or is in that instant right now.
    const { mtimeMs } = await fs.stat(file);
    return { token: '', owner: { host: '', pid: 0, requestId: '' }, acquiredAt: mtimeMs, expiresAt: mtimeMs + ttlMs, released: false };
  }
}

function timing(options: LeaseOptions) {
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  return { ttlMs, heartbeatMs: options.heartbeatMs ?? Math.max(100, Math.floor(ttlMs / 4)), now: options.now ?? Date.now };
}

/** Takes the lease on `dir`, or returns null (promptly) when a live holder has it. */
export async function acquireLease(dir: string, options: LeaseOptions): Promise<Lease | null> {
  const { ttlMs, now } = timing(options);
  await fs.mkdir(dir, { recursive: true });

  const latest = await latestLease(dir);
  if (latest > 0) {
    const current = await readRecord(path.join(dir, `lease.${latest}`), ttlMs);
    if (current && !isFree(current, now())) {
      options.logger.info('lease held by another invocation', { owner: current.owner, expiresAt: new Date(current.expiresAt).toISOString() });
      return null;
    }
  }

  return claimLease(dir, latest + 1, options);
}

/**
 * Creates `lease.<n>` for a contender that found `lease.<n-1>` free. Its view may be stale: while it stalled,
 * others may have taken `lease.<n>`, released it and moved on, the next holder deleting it as an old lease, so
 * O_EXCL alone could hand out a number below the current one. Only a claim that is still the highest stands.
 */
export async function claimLease(dir: string, n: number, options: LeaseOptions): Promise<Lease | null> {
  const { ttlMs, heartbeatMs, now } = timing(options);
  const file = path.join(dir, `lease.${n}`);
  const record: LeaseRecord = {
    token: randomUUID(),
    owner: { host: thisHost, pid: process.pid, requestId: options.requestId },
    acquiredAt: now(),
    expiresAt: now() + ttlMs,
    released: false,
  };
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
  const latest = await latestLease(dir);
  if (latest !== n) {
    await fs.rm(file, { force: true });
    options.logger.info('lease superseded while it was being taken', { lease: n, latest });
    return null;
  }
  heldHere.add(record.token);
  for (let old = 1; old < n; old++) await fs.rm(path.join(dir, `lease.${old}`), { force: true });
  return startHeartbeat(dir, n, record, { ttlMs, heartbeatMs, now, tempDir: options.tempDir ?? dir, logger: options.logger });
}

interface HeartbeatOptions {
  ttlMs: number;
  heartbeatMs: number;
  now: () => number;
  tempDir: string;
  logger: Logger;
}

function startHeartbeat(dir: string, n: number, record: LeaseRecord, { ttlMs, heartbeatMs, now, tempDir, logger }: HeartbeatOptions): Lease {
  const file = path.join(dir, `lease.${n}`);
  let lost = false;
  let renewing: Promise<void> = Promise.resolve();

  const renew = async () => {
    if ((await latestLease(dir)) !== n) {
      lost = true;
      logger.error('lease lost: another invocation took over', { lease: n });
      return;
    }
    await writeFileAtomic(file, JSON.stringify({ ...record, expiresAt: now() + ttlMs }), tempDir);
  };
  const timer = setInterval(() => {
    renewing = renewing.then(renew).catch((e: unknown) => logger.error('lease heartbeat failed', { lease: n, error: e }));
  }, heartbeatMs);
  timer.unref();

  return {
    token: record.token,
    get lost() {
      return lost;
    },
    async release() {
      clearInterval(timer);
      await renewing;
      heldHere.delete(record.token);
      if (lost || (await latestLease(dir)) !== n) return;
      await writeFileAtomic(file, JSON.stringify({ ...record, expiresAt: now(), released: true }), tempDir);
    },
  };
}
