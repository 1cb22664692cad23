/** The crawl bench's reference: `wget -r -l inf -np -p`, the usual answer to "which pages and images does this site have". */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sniffImageType } from '../../src/collection/image-type';
import { runMeasured } from './usage';

export interface WgetRun {
  ms: number;
  cpuS: number;
  peakRssMb: number;
  exitCode: number | null;
  /** HTML files saved. */
  pages: number;
  /** Distinct image contents saved (by magic bytes and sha256, as our crawler counts them). */
  images: number;
  /** wget's last lines, for a failure report. */
  tail: string;
}

function countMirror(dir: string): { pages: number; images: number } {
  let pages = 0;
  const images = new Set<string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    if (/\.html?$/i.test(entry.name)) {
      pages++;
      continue;
    }
    const bytes = fs.readFileSync(path.join(entry.parentPath, entry.name));
    if (sniffImageType(bytes)) images.add(createHash('sha256').update(bytes).digest('hex'));
  }
  return { pages, images: images.size };
}

export async function wgetMirror(seedUrl: string, dir: string): Promise<WgetRun> {
  const run = await runMeasured('wget', ['-r', '-l', 'inf', '-np', '-p', '-nv', '-P', dir, seedUrl]);
  const counts = fs.existsSync(dir) ? countMirror(dir) : { pages: 0, images: 0 };
  return { ms: run.ms, cpuS: run.cpuS, peakRssMb: run.peakRssMb, exitCode: run.code, ...counts, tail: run.stderrTail.slice(-500) };
}
