/**
 * npm run bench:crawl — a generated static site (≥ 5,000 pages, ≥ 2,000 images) served on 127.0.0.1, crawled by
 * `wget -r -l inf -np -p` and by `fc-nas-images crawl` runs repeated until done; then the resume cost of a large
 * crawl state (cold load time and peak RSS). Prints the tables and writes bench/results/crawl.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crawlUntilDone, type CrawlRun, type CrawlSeries } from './crawl/ours';
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

function comparison(wget: WgetRun, ours: CrawlSeries): string {
  const wgetSeconds = wget.ms / 1000;
  const last = ours.runs.at(-1)?.result;
  const oursSeconds = ours.runs.reduce((sum, r) => sum + r.ms, 0) / 1000;
  const inRunSeconds = ours.runs.reduce((sum, r) => sum + r.result.durationMs, 0) / 1000;
  const oursPages = last?.totalCrawlCount ?? 0;
  const oursImages = last?.totalImageDownloaded ?? 0;
  const wgetRate = wget.pages / wgetSeconds;
  const oursRate = oursPages / oursSeconds;
  const table = markdownTable(
    ['crawler', 'runs', 'wall s', 'pages', 'images', 'pages/s', 'images/s'],
    [
      ['wget -r -l inf -np -p', 1, fmt(wgetSeconds, 2), wget.pages, wget.images, fmt(wgetRate), fmt(wget.images / wgetSeconds)],
      ['fc-nas-images crawl (process wall time)', ours.runs.length, fmt(oursSeconds, 2), oursPages, oursImages, fmt(oursRate), fmt(oursImages / oursSeconds)],
      ['fc-nas-images crawl (time inside the runs)', ours.runs.length, fmt(inRunSeconds, 2), oursPages, oursImages, fmt(oursPages / inRunSeconds), fmt(oursImages / inRunSeconds)],
    ],
  );
  const ratio = oursRate / wgetRate;
  const lines = [
    table,
    '',
    `**pages/s ratio, ours (process wall time) / wget: ${fmt(ratio, 2)}×** — target ≥ ${TARGET_RATIO}×: ${verdict(ratio >= TARGET_RATIO)}`,
  ];
  if (wget.exitCode !== 0) lines.push(`wget exited with ${wget.exitCode}: ${wget.tail}`);
  if (ours.failure) lines.push(`The crawl stopped early: ${ours.failure}`);
  return lines.join('\n');
}

/** Each run's figures, with the state I/O the preloaded state timer measured inside it. */
function runsTable(ours: CrawlSeries): string {
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
  return `${table}\n\nPer-run state-write overhead: median ${fmt(medianWrite, 0)} ms, ${fmt(medianShare * 100, 1)}% of a run (journal appends with fsync, compactions, manifest appends).`;
}

runBench('crawl', async () => {
  const smoke = isSmoke();
  const pages = smoke ? 40 : envNumber('BENCH_PAGES', 5000);
  const images = smoke ? 16 : envNumber('BENCH_IMAGES', 2000);
  const pagesPerRun = smoke ? 15 : envNumber('BENCH_PAGES_PER_RUN', 1000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-crawl-'));
  // nginx's workers drop root and must be able to read the site.
  fs.chmodSync(work, 0o755);
  try {
    const site = await generateSite(path.join(work, 'site'), pages, images);
    const server = await startStaticServer(site.dir, path.join(work, 'nginx'));
    let wget: WgetRun;
    let ours: CrawlSeries;
    try {
      const seed = `${server.url}/index.html`;
      wget = await wgetMirror(seed, path.join(work, 'wget'));
      ours = await crawlUntilDone(path.join(work, 'nas'), work, seed, pagesPerRun, { ...PAYLOAD, cutoffSize: 0 }, Math.ceil(pages / pagesPerRun) * 3 + 3);
    } finally {
      await server.stop();
    }
    const siteLine = `Site: ${site.pages} pages, ${site.images} JPEGs (${fmt(site.imageBytes / 1e6, 0)} MB, 96×64 to 1600×1067), served by ${server.kind} on 127.0.0.1. Our crawler: ${pagesPerRun} pages per run, payload ${JSON.stringify(PAYLOAD)}, cutoff 0 so that both save every image.`;
    publish('crawl', `## Crawl: fc-nas-images vs wget\n\n${machineHeader()}\n\n${siteLine}\n\n${comparison(wget, ours)}\n\n${runsTable(ours)}\n\n### Resume cost\n\n${await resumeCost()}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
