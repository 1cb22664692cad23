/**
 * npm run bench:crawl — a generated static site (≥ 5,000 pages, ≥ 2,000 images) served on 127.0.0.1, crawled by
 * `wget -r -l inf -np -p` and by `fc-nas-images crawl` runs repeated until done; then real documentation sites
 * packaged in Debian (bench/crawl/doc-sites.ts; `BENCH_SITES=python,apache,...` picks them, `all` is every set on
 * one host); then the resume cost of a large crawl state (cold load time and peak RSS). Prints the tables and
 * writes bench/results/crawl.md.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { combinedSite, DOC_SITES, ensureInstalled, type DocSite } from './crawl/doc-sites';
import { crawlUntilDone, type CrawlRun, type CrawlSeries } from './crawl/ours';
import { benchSite, siteReport } from './crawl/real-sites';
import { resumeCost } from './crawl/resume-cost';
import { generateSite } from './crawl/site';
import { startStaticServer } from './crawl/static-server';
import { wgetMirror, type WgetRun } from './crawl/wget';
import { machineHeader } from './lib/machine';
import { runBench } from './lib/main';
import { envNumber, isSmoke } from './lib/mode';
import { markdownTable, publish, verdict } from './lib/report';
import { fmt, median } from './lib/stats';

const PAYLOAD = { allowPrivateNetworks: true, concurrency: 8 };
const TARGET_RATIO = 0.5;

/** One round: wget, then ours, on the same site, each into a fresh folder. */
interface Round {
  wget: WgetRun;
  ours: CrawlSeries;
}

const oursMs = (series: CrawlSeries) => series.runs.reduce((sum, r) => sum + r.ms, 0);
const inRunMs = (series: CrawlSeries) => series.runs.reduce((sum, r) => sum + r.result.durationMs, 0);
const pagesOf = (series: CrawlSeries) => series.runs.at(-1)?.result.totalCrawlCount ?? 0;
const imagesOf = (series: CrawlSeries) => series.runs.at(-1)?.result.totalImageDownloaded ?? 0;

function comparison(rounds: Round[]): string {
  const wgetS = median(rounds.map((r) => r.wget.ms)) / 1000;
  const oursS = median(rounds.map((r) => oursMs(r.ours))) / 1000;
  const inRunS = median(rounds.map((r) => inRunMs(r.ours))) / 1000;
  const { wget, ours } = rounds[0];
  const row = (name: string, runs: number, seconds: number, pages: number, images: number) => [name, runs, fmt(seconds, 2), pages, images, fmt(pages / seconds), fmt(images / seconds)];
  const table = markdownTable(
    ['crawler', 'runs per round', 'median wall s', 'pages', 'images', 'pages/s', 'images/s'],
    [
      row('wget -r -l inf -np -p', 1, wgetS, wget.pages, wget.images),
      row('fc-nas-images crawl (process wall time)', ours.runs.length, oursS, pagesOf(ours), imagesOf(ours)),
      row('fc-nas-images crawl (time inside the runs)', ours.runs.length, inRunS, pagesOf(ours), imagesOf(ours)),
    ],
  );
  const ratio = pagesOf(ours) / oursS / (wget.pages / wgetS);
  const perRound = rounds.map((r) => fmt(pagesOf(r.ours) / oursMs(r.ours) / (r.wget.pages / r.wget.ms), 2)).join(', ');
  const lines = [
    table,
    '',
    `**pages/s ratio, ours (process wall time) / wget, from the medians of ${rounds.length} alternating rounds: ${fmt(ratio, 2)}×** (each round: ${perRound}) — target ≥ ${TARGET_RATIO}×: ${verdict(ratio >= TARGET_RATIO)}`,
  ];
  for (const [i, r] of rounds.entries()) {
    if (r.wget.exitCode !== 0) lines.push(`Round ${i + 1}: wget exited with ${r.wget.exitCode}: ${r.wget.tail}`);
    if (r.ours.failure) lines.push(`Round ${i + 1}: our crawl stopped early: ${r.ours.failure}`);
  }
  return lines.join('\n');
}

/** Each run's figures in the round with the median wall time, with the state I/O the run logged. */
function runsTable(rounds: Round[]): string {
  const byTime = [...rounds].sort((a, b) => oursMs(a.ours) - oursMs(b.ours));
  const ours = byTime[(byTime.length - 1) >> 1].ours;
  const share = (r: CrawlRun) => r.state.writeMs / r.result.durationMs;
  const table = markdownTable(
    ['run', 'pages', 'images', 'process wall ms', 'in-run ms', 'state load ms', 'state writes', 'state write ms', 'state write share'],
    ours.runs.map((r, i) => [
      i + 1,
      r.result.pagesCrawledThisRun,
      r.result.imagesDownloadedThisRun,
      fmt(r.ms, 0),
      r.result.durationMs,
      fmt(r.state.loadMs, 0),
      r.state.writes,
      fmt(r.state.writeMs, 0),
      `${fmt(share(r) * 100, 1)}%`,
    ]),
  );
  const medianWrite = median(ours.runs.map((r) => r.state.writeMs));
  const medianShare = median(ours.runs.map(share));
  return `${table}\n\nPer-run state-write overhead: median ${fmt(medianWrite, 0)} ms, ${fmt(medianShare * 100, 1)}% of a run (journal appends with fsync, compactions, manifest appends; they overlap the fetching, so the share is of the run's wall time, not added to it).`;
}

const REAL_SITES_NOTE = `Debian's HTML documentation packages, served from their installed folders on 127.0.0.1. Per site, alternating rounds of: wget with its mirror in /dev/shm (its best case); ours, one \`fc-nas-images crawl\` invocation with ample budget at the default concurrency, NAS folder on disk; and the same with the NAS folder in /dev/shm. Medians of the rounds; peak RSS is the worst round. Two shared cores: other helpers' work may have loaded the machine, so compare within a table.`;

const DEFAULT_SITES = 'python,apache,eigen,boost,all';

/** The real sites named in BENCH_SITES, each benched in its own alternating rounds. */
async function realSites(names: string[], rounds: number, work: string): Promise<string> {
  const singles = Object.entries(DOC_SITES).filter(([key]) => key !== 'debian-reference').map(([, site]) => site);
  const unknown = names.filter((n) => n !== 'all' && !DOC_SITES[n]);
  if (unknown.length) throw new Error(`BENCH_SITES: unknown site ${unknown.join(', ')} (known: ${Object.keys(DOC_SITES).join(', ')}, all)`);
  const sites: DocSite[] = names.map((n) => (n === 'all' ? combinedSite(singles, path.join(work, 'all')) : DOC_SITES[n]));
  ensureInstalled(names.flatMap((n) => (n === 'all' ? singles : [DOC_SITES[n]])));
  const reports: string[] = [];
  for (const site of sites) reports.push(siteReport(await benchSite(site, rounds, work)));
  return reports.join('\n\n');
}

runBench('crawl', async () => {
  const smoke = isSmoke();
  const pages = smoke ? 40 : envNumber('BENCH_PAGES', 5000);
  const images = smoke ? 16 : envNumber('BENCH_IMAGES', 2000);
  const pagesPerRun = smoke ? 15 : envNumber('BENCH_PAGES_PER_RUN', 1000);
  const roundCount = smoke ? 1 : envNumber('BENCH_ROUNDS', 3);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-crawl-'));
  // nginx's workers drop root and must be able to read the site.
  fs.chmodSync(work, 0o755);
  try {
    const site = await generateSite(path.join(work, 'site'), pages, images);
    const server = await startStaticServer(site.dir, path.join(work, 'nginx'));
    const rounds: Round[] = [];
    try {
      const seed = `${server.url}/index.html`;
      // Alternating rounds, each writing into a fresh folder on the same disk, each started after `sync`: both
      // write 270 MB, and the write-back still pending from the step before once put wget anywhere between 1.7 s
      // and 5.9 s on the same site.
      for (let i = 0; i < roundCount; i++) {
        const wgetDir = path.join(work, 'wget');
        const nasDir = path.join(work, 'nas');
        execFileSync('sync');
        const wget = await wgetMirror(seed, wgetDir);
        execFileSync('sync');
        const ours = await crawlUntilDone(nasDir, seed, pagesPerRun, { ...PAYLOAD, cutoffSize: 0 }, Math.ceil(pages / pagesPerRun) * 3 + 3);
        rounds.push({ wget, ours });
        fs.rmSync(wgetDir, { recursive: true, force: true });
        fs.rmSync(nasDir, { recursive: true, force: true });
      }
    } finally {
      await server.stop();
    }
    const names = (smoke ? 'debian-reference' : process.env.BENCH_SITES || DEFAULT_SITES).split(',').map((n) => n.trim());
    const real = await realSites(names, roundCount, work);
    const siteLine = `Site: ${site.pages} pages, ${site.images} JPEGs (${fmt(site.imageBytes / 1e6, 0)} MB, 96×64 to 1600×1067), served by ${server.kind} on 127.0.0.1. Our crawler: \`fc-nas-images crawl\` (the package bin), ${pagesPerRun} pages per run, payload ${JSON.stringify(PAYLOAD)}, cutoff 0 so that both save every image.`;
    publish('crawl', `## Crawl: fc-nas-images vs wget\n\n${machineHeader()}\n\n${siteLine}\n\n${comparison(rounds)}\n\n${runsTable(rounds)}\n\n### Real sites\n\n${REAL_SITES_NOTE}\n\n${real}\n\n### Resume cost\n\n${await resumeCost()}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
