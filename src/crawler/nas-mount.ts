/**
 * On FC a missing NAS mount leaves the mount dir as a plain folder of the instance's disk, so a crawl would fill a
 * disk that vanishes with the instance. When rootDir is the configured NAS_ROOT on FC, it must be a mount point.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { nasRootFromEnv } from '../nas/root';

/** FC sets these in every function instance (FC 3.0 system environment variables); a local run has neither. */
export const isOnFc = (env: NodeJS.ProcessEnv): boolean => Boolean(env.FC_FUNCTION_NAME || env.FC_FUNC_CODE_PATH);

export async function refuseUnmountedNas(rootDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const root = path.resolve(rootDir);
  if (!isOnFc(env) || root !== path.resolve(nasRootFromEnv(env))) return;
  const stat = (p: string) =>
    fs.stat(p).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`rootDir ${rootDir} cannot be read (${e.code ?? e.message}): is the NAS mounted?`);
    });
  const [self, parent] = await Promise.all([stat(root), stat(path.dirname(root))]);
  if (self.dev === parent.dev) {
    throw new Error(`rootDir ${rootDir} is not a mount point (same device as its parent): the NAS is not mounted on this instance, and the crawl would go to its local disk`);
  }
}
