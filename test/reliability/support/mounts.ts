/**
 * Real file-system faults for the NAS tests: a read-only bind mount (root ignores chmod, so only a mount makes a
 * folder truly read-only) and a small tmpfs that can be filled up. Both need root and mount rights; when the
 * machine refuses them the caller is told why, instead of faking the fault.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type Unmount = () => void;

function mount(args: string[]): void {
  execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function unmounter(dir: string): Unmount {
  return () => {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
    } catch {
      // Still busy (a child that has not exited yet): detach it now, the kernel finishes when it is free.
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    }
  };
}

/** Makes `dir` read-only in place; returns the undo, or the reason it could not be done. */
export function mountReadOnly(dir: string): Unmount | string {
  try {
    mount(['--bind', dir, dir]);
  } catch (e) {
    return `mount --bind refused: ${(e as Error).message.split('\n')[0]}`;
  }
  const undo = unmounter(dir);
  try {
    mount(['-o', 'remount,ro,bind', dir]);
  } catch (e) {
    undo();
    return `remount read-only refused: ${(e as Error).message.split('\n')[0]}`;
  }
  return undo;
}

export function mountTmpfs(dir: string, sizeKb: number): Unmount | string {
  fs.mkdirSync(dir, { recursive: true });
  try {
    mount(['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir]);
  } catch (e) {
    return `mount -t tmpfs refused: ${(e as Error).message.split('\n')[0]}`;
  }
  return unmounter(dir);
}

/** Fills the file system holding `dir` until a write fails with ENOSPC; returns the filler file. */
export function fillUp(dir: string): string {
  const filler = path.join(dir, 'filler.bin');
  const fd = fs.openSync(filler, 'w');
  try {
    for (const size of [1 << 16, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}
