/**
 * Rendered results on the NAS, shared by every instance of the image function (thumbor's result storage is the
 * model): `<root>/.results/<kk>/<key>`, where the key is a hash of the content hash and the canonical request.
 *
 * - Whole or absent: an entry is written in `.results/tmp/` and renamed into place, and its header records its
 *   length, so a reader never takes a half-written entry (nor one cut short by a crash) as a result.
 * - Least recently used goes first: a hit sets the entry's mtime (at most once a minute per entry), and when the
 *   store passes its cap one instance at a time (an O_EXCL lock file) deletes the oldest entries down to 90%.
 *   An instance reading an entry that is being deleted keeps its open file; a later reader just misses.
 * - Rendered at most once across instances: a claim file (O_EXCL) per key tells other instances that a render is
 *   under way, and they wait for its entry instead of rendering the same thing again. A claim older than
 *   CLAIM_TTL_MS (a killed instance) is ignored.
 * The folder name starts with a dot, so the gallery never lists it and the image function never serves it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../nas/atomic-write';
import { RESULTS_DIR } from './layout';

export interface StoredResult {
  meta: Record<string, unknown>;
  data: Buffer;
}

export interface ResultStoreOptions {
  capBytes: number;
  /** Clock, for tests. */
  now?: () => number;
}

const MAGIC = Buffer.from('FCR1');
const HEADER = MAGIC.length + 8;
export const CLAIM_TTL_MS = 30_000;
const EVICT_LOCK_TTL_MS = 60_000;
const TOUCH_AFTER_MS = 60_000;
/** How often an instance that writes re-counts the store, since other instances write too. */
const RESCAN_MS = 60_000;
const KEY = /^[0-9a-f]{64}$/;

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

export const DEFAULT_RESULT_STORE_MB = 1024;

/** IMAGE_RESULT_STORE_MB: the cap in MiB (default 1024); 0 turns the store off. */
export function resultStoreCapFromEnv(env: NodeJS.ProcessEnv): number {
  const mb = Number(env.IMAGE_RESULT_STORE_MB ?? DEFAULT_RESULT_STORE_MB);
  return (Number.isFinite(mb) && mb >= 0 ? mb : DEFAULT_RESULT_STORE_MB) * 1024 * 1024;
}

export class ResultStore {
  readonly dir: string;
  private readonly now: () => number;
  /** Bytes this instance wrote since it last counted the store, and what that count was. */
  private written = 0;
  private counted: { bytes: number; at: number } | undefined;
  private evicting: Promise<void> | undefined;

  constructor(
    root: string,
    private readonly options: ResultStoreOptions,
  ) {
    this.dir = path.join(root, RESULTS_DIR);
    this.now = options.now ?? Date.now;
  }

  private entryPath(key: string): string {
    if (!KEY.test(key)) throw new Error(`result store key must be 64 hex digits: ${key}`);
    return path.join(this.dir, key.slice(0, 2), key);
  }

  private claimPath(key: string): string {
    return path.join(this.dir, 'claims', key);
  }

  /** The entry, or undefined when it is absent or not whole. A hit marks the entry as recently used. */
  async get(key: string): Promise<StoredResult | undefined> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.entryPath(key), 'r');
    } catch (e) {
      if (code(e) === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const [stats, bytes] = [await handle.stat(), await handle.readFile()];
      const parsed = decodeEntry(bytes);
      const now = this.now();
      if (parsed && now - stats.mtimeMs > TOUCH_AFTER_MS) await handle.utimes(now / 1000, now / 1000);
      return parsed;
    } finally {
      await handle.close();
    }
  }

  async put(key: string, result: StoredResult): Promise<void> {
    const target = this.entryPath(key);
    const temp = path.join(this.dir, 'tmp');
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.mkdir(temp, { recursive: true });
    const entry = encodeEntry(result);
    await writeFileAtomic(target, entry, temp);
    this.written += entry.length;
    const due = !this.counted || this.counted.bytes + this.written > this.options.capBytes || this.now() - this.counted.at > RESCAN_MS;
    if (due) await this.evict();
  }

  /** Deletes the least recently used entries down to 90% of the cap, if the store is over it. One instance at a time. */
  evict(): Promise<void> {
    this.evicting ??= this.evictOnce().finally(() => (this.evicting = undefined));
    return this.evicting;
  }

  private async evictOnce(): Promise<void> {
    const lock = path.join(this.dir, 'evict.lock');
    if (!(await createExclusive(lock, this.now(), EVICT_LOCK_TTL_MS))) return;
    try {
      const entries = await this.list();
      let total = entries.reduce((sum, e) => sum + e.size, 0);
      if (total > this.options.capBytes) {
        entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
        for (const entry of entries) {
          if (total <= this.options.capBytes * 0.9) break;
          await fs.rm(entry.file, { force: true });
          total -= entry.size;
        }
      }
      this.counted = { bytes: total, at: this.now() };
      this.written = 0;
    } finally {
      await fs.rm(lock, { force: true });
    }
  }

  /** Every entry with its size and last use; temp files and claims are not entries. */
  async list(): Promise<Array<{ file: string; size: number; mtimeMs: number }>> {
    let shards: string[];
    try {
      shards = (await fs.readdir(this.dir)).filter((d) => /^[0-9a-f]{2}$/.test(d));
    } catch (e) {
      if (code(e) === 'ENOENT') return [];
      throw e;
    }
    const entries = [];
    for (const shard of shards) {
      for (const name of await fs.readdir(path.join(this.dir, shard)).catch(() => [])) {
        const file = path.join(this.dir, shard, name);
        const stats = await fs.stat(file).catch(() => undefined);
        if (stats?.isFile()) entries.push({ file, size: stats.size, mtimeMs: stats.mtimeMs });
      }
    }
    return entries;
  }

  /**
   * Claims the render of `key` for this instance: a release function, or undefined when another instance holds a
   * live claim. Claims are advisory, so a store that cannot hold one (read-only) lets the caller render anyway.
   */
  async claim(key: string): Promise<(() => Promise<void>) | undefined> {
    const file = this.claimPath(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    if (!(await createExclusive(file, this.now(), CLAIM_TTL_MS))) return undefined;
    return () => fs.rm(file, { force: true });
  }

  /** Waits while another instance's claim on `key` is live, then returns the entry it wrote (or undefined). */
  async waitForClaimed(key: string, pollMs = 25): Promise<StoredResult | undefined> {
    const file = this.claimPath(key);
    for (let wait = pollMs; ; wait = Math.min(wait * 2, 200)) {
      const found = await this.get(key);
      if (found) return found;
      const stats = await fs.stat(file).catch(() => undefined);
      if (!stats || this.now() - stats.mtimeMs > CLAIM_TTL_MS) return this.get(key);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** O_EXCL create; an existing file older than `ttlMs` was left by a dead holder and is replaced once. */
async function createExclusive(file: string, now: number, ttlMs: number): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await (await fs.open(file, 'wx')).close();
      return true;
    } catch (e) {
      if (code(e) !== 'EEXIST') throw e;
    }
    const stats = await fs.stat(file).catch(() => undefined);
    if (stats && now - stats.mtimeMs <= ttlMs) return false;
    await fs.rm(file, { force: true });
  }
  return false;
}

/** `FCR1`, meta length (u32), data length (u32), meta JSON, data. */
function encodeEntry({ meta, data }: StoredResult): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header);
  header.writeUInt32BE(json.length, MAGIC.length);
  header.writeUInt32BE(data.length, MAGIC.length + 4);
  return Buffer.concat([header, json, data]);
}

function decodeEntry(bytes: Buffer): StoredResult | undefined {
  if (bytes.length < HEADER || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const metaLength = bytes.readUInt32BE(MAGIC.length);
  const dataLength = bytes.readUInt32BE(MAGIC.length + 4);
  if (bytes.length !== HEADER + metaLength + dataLength) return undefined;
  try {
    const meta = JSON.parse(bytes.subarray(HEADER, HEADER + metaLength).toString('utf8')) as Record<string, unknown>;
    return { meta, data: bytes.subarray(HEADER + metaLength) };
  } catch {
    return undefined;
  }
}
