/**
 * Applies the repo's Dockerfile to a root filesystem without Docker (not on these machines), so that
 * `verify:package` checks the container the Dockerfile describes: the same base (Debian 12), the same files, the
 * same environment and entry point. It knows only the instructions that Dockerfile uses and refuses any other, so
 * a Dockerfile change that the check cannot follow fails the check instead of passing untested.
 *
 *   tsx scripts/package/dockerfile.ts <Dockerfile> <rootfs> <out-dir>
 * copies every COPY into <rootfs> and writes <out-dir>/container.env (KEY=VALUE lines) and <out-dir>/entrypoint.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ContainerSpec {
  from: string;
  copies: Array<{ source: string; target: string }>;
  env: Record<string, string>;
  entrypoint: string[];
}

/** The base images whose root filesystem `verify:package` builds (debootstrap bookworm). */
const VERIFIABLE_BASE = /^debian:bookworm(-slim)?$/;

export function parseDockerfile(text: string): ContainerSpec {
  const spec: ContainerSpec = { from: '', copies: [], env: {}, entrypoint: [] };
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [instruction, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    switch (instruction.toUpperCase()) {
      case 'FROM':
        spec.from = args;
        break;
      case 'COPY': {
        const parts = args.split(/\s+/);
        if (parts.length !== 2 || parts.some((p) => p.startsWith('--'))) throw new Error(`COPY: only "COPY <source> <target>" is supported: ${line}`);
        spec.copies.push({ source: parts[0], target: parts[1] });
        break;
      }
      case 'ENV':
        for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) spec.env[m[1]] = m[2];
        break;
      case 'EXPOSE':
        break;
      case 'ENTRYPOINT':
        spec.entrypoint = JSON.parse(args) as string[];
        break;
      default:
        throw new Error(`${instruction}: not supported by the offline container check; extend scripts/package/dockerfile.ts`);
    }
  }
  if (!VERIFIABLE_BASE.test(spec.from)) throw new Error(`FROM ${spec.from}: the offline check builds Debian 12 (debian:bookworm) only`);
  if (spec.entrypoint.length !== 1) throw new Error('ENTRYPOINT must be one executable in JSON form, e.g. ["/code/bootstrap"]');
  return spec;
}

export function applyDockerfile(dockerfile: string, rootfs: string, outDir: string): ContainerSpec {
  const spec = parseDockerfile(fs.readFileSync(dockerfile, 'utf8'));
  const context = path.dirname(path.resolve(dockerfile));
  for (const { source, target } of spec.copies) {
    fs.cpSync(path.join(context, source), path.join(rootfs, target), { recursive: true, verbatimSymlinks: true });
  }
  fs.writeFileSync(path.join(outDir, 'container.env'), Object.entries(spec.env).map(([k, v]) => `${k}=${v}\n`).join(''));
  fs.writeFileSync(path.join(outDir, 'entrypoint'), spec.entrypoint[0]);
  return spec;
}

if (require.main === module) {
  const [dockerfile, rootfs, outDir] = process.argv.slice(2);
  try {
    const spec = applyDockerfile(dockerfile, rootfs, outDir);
    process.stdout.write(`FROM ${spec.from}; ${spec.copies.map((c) => `COPY ${c.source} ${c.target}`).join('; ')}; ENTRYPOINT ${spec.entrypoint[0]}\n`);
  } catch (e) {
    process.stderr.write(`dockerfile: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
