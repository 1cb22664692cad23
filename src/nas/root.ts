/** Where the NAS is mounted: env NAS_ROOT (set by s.yaml on FC and by the local CLI), else FC's conventional mount dir. */
export const DEFAULT_NAS_ROOT = '/mnt/crawler';

export function nasRootFromEnv(env: NodeJS.ProcessEnv): string {
  return env.NAS_ROOT && env.NAS_ROOT.trim() ? env.NAS_ROOT : DEFAULT_NAS_ROOT;
}
