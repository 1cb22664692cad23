/**
 * Cold load of a big crawl state: 1M visited URLs and a 100k frontier in a snapshot, plus a 50k-line journal,
 * loaded by a fresh process the way a crawler invocation does (StateStore.load + CrawlState.fromStore), without
 * and with revisit records (an ETag, a Last-Modified and a hash per page, an image URL on every third page), and
 * then the scan a run makes for the pages due. Targets: under 1 s and under 512 MB.
 * Prints a markdown table and writes bench/results/state-load.md.
 * Usage: npx tsx bench/state-load.ts   (BENCH_SMOKE=1 for a tiny run)
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PageRecord } from '../src/crawler/revisits';
import { CrawlState } from '../src/crawler/state';
import { StateStore } from '../src/nas/state-store';
import { isSmoke } from './lib/mode';
import { markdownTable, publish, verdict } from './lib/report';

interface LoadMeasure {
  ms: number;
  /** User + system CPU time of the load: what it costs without the machine's other load. */
  cpuMs: number;
  peakRssMb: number;
  visited: number;
  frontier: number;
  /** The scan for due pages (RevisitTable.due) right after the load, ms. */
  dueScanMs: number;
  records: number;
  /** RSS of the child before it loaded anything but its modules. */
  rssBeforeMb: number;
  /** The child ran the compiled modules (dist/cli), as FC does; else the sources through tsx. */
  compiled: boolean;
}

const RUNS = 3;
/** The bench's clock: a tenth of the records are due. */
const NOW_S = 1_790_000_000;

async function build(dir: string, visited: number, frontier: number, journal: number, revisits: boolean): Promise<{ snapshotMb: number }> {
  const state = new CrawlState();
  const url = (i: number) => `https://www.example.com/articles/${Math.floor(i / 1000)}/page-${i}.html?ref=listing`;
  const record = (i: number): PageRecord => ({
    due: NOW_S - 3600 + (i % 10) * 86_400,
    interval: 3600 * (1 + (i % 168)),
    visited: NOW_S - 86_400,
    hash: (i * 2654435761).toString(16).padStart(16, '0').slice(-16),
    lastModified: 1_700_000_000 + i,
    etag: `"${(i * 40503).toString(36)}-5f3a${i % 977}"`,
    images: i % 3 === 0 ? [`https://www.example.com/images/${Math.floor(i / 1000)}/photo-${i}.jpg`] : [],
  });
  for (let i = 0; i < visited + frontier; i++) state.push(url(i), 3, 'dfs');
  for (let i = 0; i < visited; i++) {
    state.visited(url(i));
    if (revisits) state.scheduled(url(i), record(i));
  }
  const store = new StateStore(path.join(dir, 'crawl-state'), dir);
  await store.load();
  await store.compact(state.toSnapshot());
  const lines: string[] = [];
  for (let i = 0; i < journal; i++) {
    lines.push(i % 2 ? state.visited(url(visited + i)) : state.push(url(visited + frontier + i), 4, 'dfs')!);
    if (revisits && i % 2) lines.push(state.scheduled(url(visited + i), record(visited + i)));
  }
  await store.append(lines);
  await store.close();
  const snapshot = (await fs.readdir(path.join(dir, 'crawl-state'))).find((n) => n.startsWith('snapshot.'))!;
  return { snapshotMb: (await fs.stat(path.join(dir, 'crawl-state', snapshot))).size / 2 ** 20 };
}

async function main(): Promise<void> {
  const visited = isSmoke() ? 10_000 : 1_000_000;
  const frontier = visited / 10;
  const journal = visited / 20;
  const rows: string[][] = [];
  const loads: LoadMeasure[][] = [];
  for (const revisits of [false, true]) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'state-load-'));
    try {
      const { snapshotMb } = await build(dir, visited, frontier, journal, revisits);
      const measures: LoadMeasure[] = [];
      for (let i = 0; i < RUNS; i++) {
        const out = execFileSync(process.execPath, [path.join(__dirname, 'state-load-child.cjs'), dir, String(NOW_S)], { encoding: 'utf8' });
        measures.push(JSON.parse(out.trim().split('\n').pop()!) as LoadMeasure);
      }
      loads.push(measures);
      const best = Math.min(...measures.map((m) => m.ms));
      const worst = Math.max(...measures.map((m) => m.ms));
      const rss = Math.max(...measures.map((m) => m.peakRssMb));
      const cpuMs = Math.min(...measures.map((m) => m.cpuMs));
      const scan = Math.min(...measures.map((m) => m.dueScanMs));
      const m = measures[0];
      rows.push([
        `${m.visited.toLocaleString('en')} visited, ${m.frontier.toLocaleString('en')} in the frontier, ${journal.toLocaleString('en')} journal lines${revisits ? ', with revisit records' : ''}`,
        `${snapshotMb.toFixed(0)} MB`, `${best.toFixed(0)} ms / ${worst.toFixed(0)} ms`, `${cpuMs.toFixed(0)} ms`, `${rss.toFixed(0)} MB (${Math.max(...measures.map((x) => x.rssBeforeMb)).toFixed(0)} MB before the load)`,
        revisits ? `${scan.toFixed(0)} ms (${m.records} of the due pages taken)` : 'n/a', verdict(best < 1000), verdict(rss < 512),
      ]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
  const table = markdownTable(
    ['state', 'snapshot size', 'cold load, wall (best / worst of 3)', 'CPU time (best)', 'peak RSS of the loading process (worst)', 'scan for due pages (best)', 'target < 1 s', 'target < 512 MB'],
    rows,
  );
  const [plain, withRevisits] = loads.map((ms) => Math.min(...ms.map((m) => m.ms)));
  // Imported here, not at the top: it loads sharp and OpenCV, which the measured child must not carry.
  const { machineHeader } = await import('./lib/machine');
  const load = `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min) when measured`;
  const how = loads.flat().every((m) => m.compiled) ? 'the compiled modules (dist/cli), as FC runs them' : 'the TypeScript sources through tsx (dist/cli was not up to date; its loader adds about 50 MB of RSS)';
  publish('state-load', `# Crawl state cold load\n\n${machineHeader([`a fresh Node process per load, ${RUNS} runs, running ${how}`, load])}\n\n${table}\n\nRevisit records cost ${(withRevisits / plain).toFixed(2)}× the load time of the same state without them.\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
