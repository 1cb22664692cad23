/**
 * The crawl bench on real sites (bench/crawl/doc-sites.ts): per site, alternating rounds of wget (its mirror in
 * /dev/shm, its best case), our crawler with its NAS folder on disk (as on FC, every state write fsync'd) and our
 * crawler with its NAS folder in /dev/shm (where fsync costs nothing: the gap between the two is the fsync cost).
 * Ours is one `fc-nas-images crawl` invocation with ample budget, at the default concurrency.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { markdownTable, verdict } from '../lib/report';
import { fmt, median } from '../lib/stats';
import type { DocSite } from './doc-sites';
import { crawlUntilDone, type CrawlSeries } from './ours';
import { startStaticServer } from './static-server';
import { wgetMirror, type WgetRun } from './wget';

/** Every page in one run; cutoff 0 so that ours saves every image, as wget does. Concurrency stays at its default. */
const PAYLOAD = { allowPrivateNetworks: true, cutoffSize: 0 };
const PAGES_PER_RUN = 100_000;
const SPEED_GOAL = 1.0;
const RSS_GOAL_MB = 200;

interface Sample {
  ms: number;
  cpuS: number;
  peakRssMb: number;
  pages: number;
  images: number;
  failure?: string;
}

export interface SiteResult {
  site: DocSite;
  serverKind: string;
  wget: Sample[];
  oursDisk: Sample[];
  oursShm: Sample[];
  /** Wall-time share of the fsync'd state writes in our on-disk runs (median). */
  stateWriteShare: number;
}

const fromWget = (w: WgetRun): Sample => ({
  ms: w.ms,
  cpuS: w.cpuS,
  peakRssMb: w.peakRssMb,
  pages: w.pages,
  images: w.images,
  // 8: some link answered 4xx/5xx, which real documentation sets have.
  failure: w.exitCode === 0 || w.exitCode === 8 ? undefined : `wget exited with ${w.exitCode}: ${w.tail}`,
});

function fromOurs(series: CrawlSeries): Sample {
  const last = series.runs.at(-1)?.result;
  return {
    ms: series.runs.reduce((sum, r) => sum + r.ms, 0),
    cpuS: series.runs.reduce((sum, r) => sum + r.cpuS, 0),
    peakRssMb: Math.max(0, ...series.runs.map((r) => r.peakRssMb)),
    pages: last?.totalCrawlCount ?? 0,
    images: last?.totalImageDownloaded ?? 0,
    failure: series.failure,
  };
}

const scratch = (parent: string) => fs.mkdtempSync(path.join(parent, 'bench-crawl-'));

export async function benchSite(site: DocSite, rounds: number, work: string): Promise<SiteResult> {
  const server = await startStaticServer(site.root, path.join(work, 'server'));
  const result: SiteResult = { site, serverKind: server.kind, wget: [], oursDisk: [], oursShm: [], stateWriteShare: NaN };
  const shares: number[] = [];
  const seed = server.url + site.seed;
  const ours = async (parent: string) => {
    const nas = scratch(parent);
    try {
      execFileSync('sync');
      return await crawlUntilDone(nas, seed, PAGES_PER_RUN, PAYLOAD, 3);
    } finally {
      fs.rmSync(nas, { recursive: true, force: true });
    }
  };
  const steps = [
    async () => {
      const dir = scratch('/dev/shm');
      try {
        result.wget.push(fromWget(await wgetMirror(seed, dir)));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    async () => {
      const series = await ours(os.tmpdir());
      result.oursDisk.push(fromOurs(series));
      shares.push(...series.runs.map((r) => r.state.writeMs / r.result.durationMs));
    },
    async () => result.oursShm.push(fromOurs(await ours('/dev/shm'))),
  ];
  try {
    // Alternating: even rounds wget first, odd rounds ours first.
    for (let i = 0; i < rounds; i++) for (const step of i % 2 ? [...steps].reverse() : steps) await step();
  } finally {
    await server.stop();
  }
  result.stateWriteShare = median(shares);
  return result;
}

const med = (samples: Sample[], f: (s: Sample) => number) => median(samples.map(f));
const pagesPerS = (s: Sample) => s.pages / (s.ms / 1000);
const imagesPerS = (s: Sample) => s.images / (s.ms / 1000);

export function siteReport(r: SiteResult): string {
  const row = (name: string, samples: Sample[]) => [
    name,
    fmt(med(samples, (s) => s.ms) / 1000, 2),
    med(samples, (s) => s.pages),
    med(samples, (s) => s.images),
    fmt(med(samples, pagesPerS)),
    fmt(med(samples, imagesPerS)),
    fmt(med(samples, (s) => s.cpuS), 2),
    fmt(Math.max(...samples.map((s) => s.peakRssMb)), 0),
  ];
  const table = markdownTable(
    ['crawler', 'median wall s', 'pages', 'images found', 'pages/s', 'images/s', 'CPU s', 'peak RSS MB (worst)'],
    [row('wget -r -l inf -np -p, mirror in /dev/shm', r.wget), row('fc-nas-images crawl, NAS folder on disk', r.oursDisk), row('fc-nas-images crawl, NAS folder in /dev/shm', r.oursShm)],
  );
  const ratio = med(r.oursDisk, pagesPerS) / med(r.wget, pagesPerS);
  const perRound = r.oursDisk.map((s, i) => fmt(pagesPerS(s) / pagesPerS(r.wget[i]), 2)).join(', ');
  const worstRss = Math.max(...r.oursDisk.map((s) => s.peakRssMb), ...r.oursShm.map((s) => s.peakRssMb));
  const lines = [
    `#### ${r.site.name}`,
    '',
    table,
    '',
    `- pages/s, ours (NAS on disk) / wget: **${fmt(ratio, 2)}×** (each round: ${perRound}), goal ≥ ${SPEED_GOAL}×: **${verdict(ratio >= SPEED_GOAL).toUpperCase()}**`,
    `- peak RSS of ours, worst of ${r.oursDisk.length + r.oursShm.length} runs: **${fmt(worstRss, 0)} MB**, goal ≤ ${RSS_GOAL_MB} MB: **${verdict(worstRss <= RSS_GOAL_MB).toUpperCase()}**`,
    `- images found, ours / wget: ${med(r.oursDisk, (s) => s.images)} / ${med(r.wget, (s) => s.images)} (distinct contents; wget's -p also saves CSS backgrounds and favicons, ours reads HTML only and takes no icons)`,
    `- fsync'd state writes, median share of our on-disk run's wall time: ${fmt(r.stateWriteShare * 100, 1)}%; the same crawl with its NAS in /dev/shm: ${fmt(med(r.oursDisk, (s) => s.ms) / med(r.oursShm, (s) => s.ms), 2)}× faster`,
  ];
  for (const [name, samples] of [['wget', r.wget], ['ours on disk', r.oursDisk], ['ours in /dev/shm', r.oursShm]] as const) {
    for (const [i, s] of samples.entries()) if (s.failure) lines.push(`- Round ${i + 1}, ${name}: ${s.failure.slice(0, 600)}`);
  }
  return `${lines.join('\n')}\n\nServed by ${r.serverKind} from ${r.site.root}; seed ${r.site.seed}.`;
}
