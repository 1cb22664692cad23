import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Writes `data` to `target` so that readers see either the old file or the whole new one, never a part:
 * write a temp file, fsync it, rename it over the target (atomic on POSIX and NFS).
 * The directory is not fsynced: NFS servers perform a rename synchronously, and on a local journaling file system
 * the next fsync (the crawl journal's, which follows every image) commits the rename with it.
 * `tempDir` must be on the same file system; it defaults to the target's directory.
 * With `replace: false` an existing target is kept and the write fails with EEXIST (link instead of rename), so two
 * writers that both believe they may create the file can never overwrite each other's.
 */
export async function writeFileAtomic(target: string, data: string | Buffer, tempDir = path.dirname(target), { replace = true } = {}): Promise<void> {
  const temp = path.join(tempDir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', 0o644);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (replace) await fs.rename(temp, target);
    else await fs.link(temp, target);
  } catch (e) {
    // A full disk (ENOSPC) fails the write: the partial temp file must not stay behind either.
    await fs.rm(temp, { force: true });
    throw e;
  }
  if (!replace) await fs.rm(temp, { force: true });
}
