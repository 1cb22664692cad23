/**
 * The project's crawler as a user runs it: `fc-nas-images crawl` invocations, each a fresh process like a cold FC
 * instance, repeated until the result says the crawl is done. Every run's result is the last line of stdout; its
 * state I/O times come from the state timer preloaded into the process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describeZodError } from '../../src/fc/http-event';
import { REPO_ROOT } from '../lib/mode';
import { runCommand } from '../lib/process';
import type { StateTiming } from './state-timer';

const resultSchema = z.looseObject({
  done: z.boolean(),
  pagesCrawledThisRun: z.number(),
  imagesDownloadedThisRun: z.number(),
  totalCrawlCount: z.number(),
  totalImageDownloaded: z.number(),
  durationMs: z.number(),
  error: z.string().optional(),
});

export type CrawlResult = z.output<typeof resultSchema>;

export interface CrawlRun {
  /** Wall time of the whole process, start-up included. */
  ms: number;
  result: CrawlResult;
  state: StateTiming;
}

export interface CrawlSeries {
  runs: CrawlRun[];
  /** Why the series stopped before `done`, if it did. */
  failure?: string;
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

/** `scratch` holds each run's timing file; it must not be inside `nas`. */
export async function crawlUntilDone(nas: string, scratch: string, seedUrl: string, pagesPerRun: number, payload: Record<string, unknown>, maxRuns: number): Promise<CrawlSeries> {
  const timingFile = path.join(scratch, 'state-timing.json');
  const env = { ...process.env, BENCH_STATE_TIMING: timingFile };
  const args = ['--import', 'tsx', '--import', './bench/crawl/state-timer.ts', 'src/local/cli.ts', 'crawl', '--nas', nas, '--url', seedUrl, '--pages', String(pagesPerRun), '--payload', JSON.stringify(payload)];
  const runs: CrawlRun[] = [];
  while (runs.length < maxRuns) {
    fs.rmSync(timingFile, { force: true });
    const run = await runCommand(process.execPath, args, { cwd: REPO_ROOT, env });
    const result = lastLineResult(run.stdout);
    if (typeof result === 'string') return { runs, failure: `${result}\n${run.stderrTail.slice(-800)}` };
    runs.push({ ms: run.ms, result, state: JSON.parse(fs.readFileSync(timingFile, 'utf8')) as StateTiming });
    if (result.error) return { runs, failure: result.error };
    if (result.done) return { runs };
  }
  return { runs, failure: `not done after ${maxRuns} runs` };
}
