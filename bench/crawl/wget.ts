/** The crawl bench's reference: `wget -r -l inf -np -p`, the usual answer to "which pages and images does this site have". */
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from '../lib/process';

export interface WgetRun {
  ms: number;
  exitCode: number | null;
  pages: number;
  images: number;
  /** wget's last lines, for a failure report. */
  tail: string;
}

function countByExtension(dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const ext = path.extname(entry.name);
    counts.set(ext, (counts.get(ext) ?? 0) + 1);
  }
  return counts;
}

export async function wgetMirror(seedUrl: string, dir: string): Promise<WgetRun> {
  const run = await runCommand('wget', ['-r', '-l', 'inf', '-np', '-p', '-nv', '-P', dir, seedUrl]);
  const counts = fs.existsSync(dir) ? countByExtension(dir) : new Map<string, number>();
  return { ms: run.ms, exitCode: run.code, pages: counts.get('.html') ?? 0, images: counts.get('.jpg') ?? 0, tail: run.stderrTail.slice(-500) };
}
