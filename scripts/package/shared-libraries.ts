/**
 * Which shared libraries a native binary needs beyond what any glibc system has, found with `ldd`
 * (the whole transitive set, as the dynamic loader resolves it on this machine).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface SharedLibrary {
  /** The name the loader looks for (the DT_NEEDED / SONAME, e.g. libopencv_core.so.406). */
  name: string;
  /** Where it is on this machine. */
  file: string;
}

/**
 * glibc itself: every Linux runtime has it, and a copy from another glibc version would break the loader.
 * libstdc++ and libgcc_s are not here on purpose: they are shipped so the package does not depend on them.
 */
const GLIBC = new Set([
  'linux-vdso.so.1',
  'ld-linux-x86-64.so.2',
  'libc.so.6',
  'libm.so.6',
  'libmvec.so.1',
  'libpthread.so.0',
  'libdl.so.2',
  'librt.so.1',
  'libresolv.so.2',
  'libutil.so.1',
  'libanl.so.1',
  'libnsl.so.1',
  'libBrokenLocale.so.1',
]);

/** Parses `ldd` output; a library the loader cannot find is an error, since the package would not load either. */
export function parseLdd(output: string, binary: string): SharedLibrary[] {
  const libraries: SharedLibrary[] = [];
  for (const line of output.split('\n')) {
    const text = line.trim();
    if (!text) continue;
    const mapped = /^(\S+) => (.+?) \(0x[0-9a-f]+\)$/.exec(text);
    const missing = /^(\S+) => not found$/.exec(text);
    if (missing) throw new Error(`${binary} needs ${missing[1]}, which ldd cannot find on this machine`);
    if (mapped) libraries.push({ name: mapped[1], file: mapped[2] });
  }
  return libraries;
}

export function collectSharedLibraries(binaries: readonly string[]): SharedLibrary[] {
  const byName = new Map<string, SharedLibrary>();
  for (const binary of binaries) {
    const output = execFileSync('ldd', [binary], { encoding: 'utf8' });
    for (const library of parseLdd(output, binary)) {
      if (!GLIBC.has(path.basename(library.name))) byName.set(library.name, library);
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
