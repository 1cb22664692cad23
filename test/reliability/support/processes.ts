/**
 * Starts the real CLI (src/local/cli.ts) as child processes: one node process each, without an npx or tsx
 * wrapper, so that a SIGKILL lands on the crawler itself and /proc/<pid> is the process that does the work.
 * Every child runs under the connect guard.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { memoryMiB } from '../../../bench/lib/process';
import type { CrawlResult } from '../../../src/crawler/run';
import { REPO_ROOT } from './paths';

const CLI = path.join(REPO_ROOT, 'src/local/cli.ts');
const GUARD = pathToFileURL(path.join(__dirname, 'connect-guard.ts')).href;

export interface CliOptions {
  connectLog: string;
  env?: NodeJS.ProcessEnv;
  /** A command that runs the CLI, e.g. `unshare --pid --fork` to play another FC instance. */
  wrapper?: string[];
}

export function spawnCli(args: string[], options: CliOptions): ChildProcess {
  const command = [...(options.wrapper ?? []), process.execPath, '--import', 'tsx', '--import', GUARD, CLI, ...args];
  return spawn(command[0], command.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, RELIABILITY_GUARD: '1', RELIABILITY_CONNECT_LOG: options.connectLog },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Polls the peak RSS (VmHWM) of a child until it exits; /proc/<pid> is gone afterwards. */
function watchPeakRss(child: ChildProcess): () => number {
  let peak = 0;
  const sample = () => {
    const hwm = child.pid === undefined ? NaN : memoryMiB(child.pid, 'VmHWM');
    if (hwm > peak) peak = hwm;
  };
  sample();
  const timer = setInterval(sample, 50);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Epoch ms when it exited. */
  endedAt: number;
  peakRssMb: number;
}

/** Collects a child's output and waits for it to exit. */
export function finished(child: ChildProcess): Promise<Finished> {
  const started = Date.now();
  const stopWatch = watchPeakRss(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started, endedAt: Date.now(), peakRssMb: stopWatch() });
    });
  });
}

export interface CrawlRequest {
  nas: string;
  url: string;
  pages: number;
  timeoutSeconds: number;
  payload?: Record<string, unknown>;
}

export function crawlArgs(req: CrawlRequest): string[] {
  const args = ['crawl', '--nas', req.nas, '--url', req.url, '--pages', String(req.pages), '--timeout', String(req.timeoutSeconds)];
  return req.payload ? [...args, '--payload', JSON.stringify(req.payload)] : args;
}

export function parseCrawlResult(stdout: string): CrawlResult | undefined {
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as CrawlResult;
  } catch {
    return undefined;
  }
}

/** A crawl process and the CrawlResult it printed as its last stdout line. */
export interface CrawlRun extends Finished {
  result?: CrawlResult;
}

/** One `fc-nas-images crawl`; `during` may act on the live process (kill it, break the NAS under it). */
export async function crawlOnce(req: CrawlRequest, options: CliOptions, during?: (child: ChildProcess, exit: Promise<Finished>) => Promise<void>): Promise<CrawlRun> {
  const child = spawnCli(crawlArgs(req), options);
  const exit = finished(child);
  await during?.(child, exit);
  const run = await exit;
  return { ...run, result: parseCrawlResult(run.stdout) };
}

/** A crawl run that did real work: neither skipped for the lease, nor failed. */
export function crawled(run: CrawlRun): boolean {
  return !!run.result && !run.result.error && !run.result.skipped && run.result.pagesCrawledThisRun > 0;
}

export function describeRun(run: CrawlRun): string {
  if (!run.result) return `no result (exit ${run.code ?? run.signal}); stderr: ${run.stderr.slice(-500)}`;
  const r = run.result;
  return r.skipped
    ? `skipped (${r.skipped})`
    : `pages +${r.pagesCrawledThisRun} (total ${r.totalCrawlCount}), images +${r.imagesDownloadedThisRun}, frontier ${r.frontierSize}, failed ${r.failedCount}${r.done ? ', done' : ''}${r.error ? `, error: ${r.error}` : ''}`;
}

export interface ImageServer {
  url: string;
  pid: number;
  alive: () => boolean;
  stop: () => Promise<Finished>;
}

/** `fc-nas-images serve` on an ephemeral loopback port; resolves once it prints its URL. */
export async function startImageServer(nas: string, options: CliOptions): Promise<ImageServer> {
  const child = spawnCli(['serve', '--nas', nas, '--port', '0', '--host', '127.0.0.1'], options);
  const done = finished(child);
  let exited = false;
  void done.then(() => (exited = true));
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(seen);
      if (match) {
        child.stdout?.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    void done.then((f) => reject(new Error(`image server exited before listening (${f.code ?? f.signal}): ${f.stderr.slice(-1000)}`)));
  });
  return {
    url,
    pid: child.pid!,
    alive: () => !exited && child.exitCode === null && child.signalCode === null,
    stop: () => {
      if (!exited) child.kill('SIGTERM');
      return done;
    },
  };
}
