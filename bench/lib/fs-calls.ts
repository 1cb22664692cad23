/**
 * Counts file-system calls made through node:fs/promises while `run` runs: fs.promises functions and the
 * methods of FileHandle (read, stat, close, …). On NAS each is a network round trip, so the count is the cost.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Fn = (...args: unknown[]) => unknown;

export async function countFsCalls<T>(run: () => Promise<T>): Promise<{ result: T; calls: number }> {
  let calls = 0;
  const probe = await fs.open(path.join(os.tmpdir(), '.fs-calls-probe'), 'w');
  const handleProto = Object.getPrototypeOf(probe) as Record<string, Fn>;
  await probe.close();
  const patched: Array<[Record<string, Fn>, string, Fn]> = [];
  const wrap = (target: Record<string, Fn>, names: string[]) => {
    for (const name of names) {
      const original = target[name];
      if (typeof original !== 'function') continue;
      patched.push([target, name, original]);
      target[name] = function (this: unknown, ...args: unknown[]) {
        calls++;
        return original.apply(this, args);
      };
    }
  };
  wrap(fs as unknown as Record<string, Fn>, ['open', 'readFile', 'readdir', 'stat', 'lstat', 'access', 'realpath', 'appendFile']);
  wrap(handleProto, ['read', 'readFile', 'stat', 'close', 'write', 'truncate']);
  try {
    const result = await run();
    return { result, calls };
  } finally {
    for (const [target, name, original] of patched) target[name] = original;
  }
}
