/**
 * The project's crawler as a user runs it: `fc-nas-images crawl` invocations (the package's bin), each a fresh
 * process like a cold FC instance, repeated until the result says the crawl is done. Every run's result is the last
 * line of stdout; its state I/O times come from the run's own "crawl run finished" log line on stderr.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';
import { describeZodError } from '../../src/util/zod-error';
import type { StateIo } from '../../src/crawler/run';
import { REPO_ROOT } from '../lib/mode';
import { runMeasured } from './usage';

const resultSchema = z.looseObject({
  done: z.boolean(),
  pagesCrawledThisRun: z.number(),
  imagesDownloadedThisRun: z.number(),
  totalCrawlCount: z.number(),
  totalImageDownloaded: z.number(),
  durationMs: z.number(),
  error: z.string().optional(),
});

const runLogSchema = z.looseObject({
  msg: z.literal('crawl run finished'),
  stateIo: z.object({ loadMs: z.number(), writeMs: z.number(), writes: z.number() }),
});

export type CrawlResult = z.output<typeof resultSchema>;

export interface CrawlRun {
  /** Wall time of the whole process, start-up included. */
  ms: number;
  /** CPU seconds (user + system) and peak RSS of the process. */
  cpuS: number;
  peakRssMb: number;
  result: CrawlResult;
  state: StateIo;
}

export interface CrawlSeries {
  runs: CrawlRun[];
  /** Why the series stopped before `done`, if it did. */
  failure?: string;
}

const BIN = path.join(REPO_ROOT, 'bin/fc-nas-images.cjs');
const compiledCli = require('../../scripts/compiled-cli.cjs') as { isFresh: () => boolean };

/**
 * The bin runs the TypeScript sources through tsx when the compiled CLI is older than them, which costs every
 * process start-up time a user's built package does not pay: the bench builds it first.
 */
function ensureCompiledCli(): void {
  if (compiledCli.isFresh()) return;
  process.stderr.write('bench: building the compiled CLI (npm run build)\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

function lastLineResult(stdout: string): CrawlResult | string {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = resultSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : `unexpected crawl result: ${describeZodError(parsed.error)}`;
  } catch {
    return `crawl printed no JSON result: ${JSON.stringify(line.slice(0, 200))}`;
  }
}

function stateIoOf(stderr: string): StateIo | string {
  for (const line of stderr.trim().split('\n').reverse()) {
    if (!line.includes('"crawl run finished"')) continue;
    const parsed = runLogSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data.stateIo : `unexpected run log line: ${describeZodError(parsed.error)}`;
  }
  return 'the run logged no "crawl run finished" line';
}

export async function crawlUntilDone(nas: string, seedUrl: string, pagesPerRun: number, payload: Record<string, unknown>, maxRuns: number): Promise<CrawlSeries> {
  const args = [BIN, 'crawl', '--nas', nas, '--url', seedUrl, '--pages', String(pagesPerRun), '--payload', JSON.stringify(payload)];
  ensureCompiledCli();
  const runs: CrawlRun[] = [];
  while (runs.length < maxRuns) {
    const run = await runMeasured(process.execPath, args, { cwd: REPO_ROOT });
    const result = lastLineResult(run.stdout);
    if (typeof result === 'string') return { runs, failure: `${result}\n${run.stderrTail.slice(-800)}` };
    const state = stateIoOf(run.stderrTail);
    if (typeof state === 'string') return { runs, failure: state };
    runs.push({ ms: run.ms, cpuS: run.cpuS, peakRssMb: run.peakRssMb, result, state });
    if (result.error) return { runs, failure: result.error };
    // What is left waits for a retry (a transient failure) that only a later run's clock allows: done for a bench.
    if (result.done || (result.frontierSize === 0 && result.pagesCrawledThisRun === 0 && result.imagesDownloadedThisRun === 0)) return { runs };
  }
  return { runs, failure: `not done after ${maxRuns} runs` };
}
