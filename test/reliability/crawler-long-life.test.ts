/**
 * A year in an afternoon: at least 3,000 crawler invocations against one NAS folder, by two invokers whose clocks
 * differ by 60 s (+60 s and -60 s), each a long-lived worker process looping over the real runCrawl (as FC reuses
 * an instance), SIGKILLed at random moments and by a poison page. The site has transient 503/429 bursts with
 * Retry-After, a slow gallery that cannot finish in one run, a poison page and a link bomb.
 * It asserts the final image set (sha256: none missing, none extra, no partial file), that every page reachable
 * within the rules was visited or failed with a reason, that a run's state cost (lease + load + commit, counted in
 * file-system calls on the state folder) stays flat, and that the state folder stays bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrawlState } from '../../src/crawler/state';
import type { CrawlResult, StateIo } from '../../src/crawler/run';
import { StateStore } from '../../src/nas/state-store';
import { readConnectLog } from './support/connect-guard';
import { recordFigure, type Figure } from './support/figures';
import { MAX_DEPTH, startLongLifeSite } from './support/long-life-site';
import { auditNas, listFiles } from './support/nas-inspect';
import { REPO_ROOT, tempDir } from './support/paths';
import { randomInt, sleep } from './support/timing';

const RUNS = Number(process.env.RELIABILITY_LONG_LIFE_RUNS ?? 3000);
const PAGES = 1200;
const POOL_IMAGES = 150;
const MAX_ATTEMPTS = 5;
const BUDGET_MS = 4000;
/** Give up on the scenario after this long: 3,000 invocations take about 4 minutes on 2 shared cores. */
const TIME_CAP_MS = 12 * 60_000;
const AREA = 'crawler: long life';
const SUPPORT = path.join(__dirname, 'support');
const preload = (file: string) => ['--import', pathToFileURL(path.join(SUPPORT, file)).href];

interface RunOutput {
  id: number;
  result?: CrawlResult & { retryingCount?: number };
  stateIo?: StateIo | null;
  stateOps?: number;
  ms?: number;
  error?: string;
  errors?: string[];
  killed?: boolean;
}

/** One invoker: a worker process with a shifted clock, respawned whenever it is killed. */
class Invoker {
  private child: ChildProcess | null = null;
  private ready: Promise<void> = Promise.resolve();
  private pending: ((out: RunOutput) => void) | null = null;
  busy = false;

  constructor(
    readonly name: string,
    private readonly shiftMs: number,
    private readonly connectLog: string,
  ) {}

  private spawn(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', ...preload('connect-guard.ts'), ...preload('clock-shift.ts'), path.join(SUPPORT, 'crawl-worker.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, CLOCK_SHIFT_MS: String(this.shiftMs), RELIABILITY_GUARD: '1', RELIABILITY_CONNECT_LOG: this.connectLog },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child = child;
    // A child killed after it answered but before its exit was seen makes the next command's write fail (EPIPE);
    // the exit handler settles that command as killed, so the write error itself carries nothing more.
    child.stdin!.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
    let started: () => void = () => undefined;
    this.ready = new Promise((resolve) => (started = resolve));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as RunOutput & { ready?: number };
      if (message.ready) started();
      else this.settle(message);
    });
    child.once('exit', () => {
      if (this.child === child) this.child = null;
      started();
      this.settle({ id: -1, killed: true });
    });
  }

  private settle(out: RunOutput): void {
    const pending = this.pending;
    this.pending = null;
    this.busy = false;
    pending?.(out);
  }

  async run(id: number, payload: Record<string, unknown>): Promise<RunOutput> {
    if (!this.child) this.spawn();
    await this.ready;
    if (!this.child) return { id, killed: true };
    this.busy = true;
    const out = new Promise<RunOutput>((resolve) => (this.pending = resolve));
    this.child.stdin!.write(JSON.stringify({ id, payload, budgetMs: BUDGET_MS }) + '\n');
    return out;
  }

  kill(): boolean {
    if (!this.child || !this.busy) return false;
    this.child.kill('SIGKILL');
    return true;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin!.end();
    await exited;
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function folderSize(dir: string): { files: number; bytes: number } {
  const files = listFiles(dir);
  return { files: files.length, bytes: files.reduce((sum, f) => sum + (fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0) };
}

test(`${RUNS} crawler invocations by two invokers with clocks 120 s apart, killed at random`, { timeout: TIME_CAP_MS + 3 * 60_000 }, async (t) => {
  const tmp = tempDir('long-life');
  t.after(tmp.remove);
  const nas = path.join(tmp.dir, 'nas');
  const stateDir = path.join(nas, 'crawl-state');
  const connectLog = path.join(tmp.dir, 'connect.jsonl');
  const invokers = [new Invoker('ahead', 60_000, connectLog), new Invoker('behind', -60_000, connectLog)];
  let poisonKills = 0;
  const site = await startLongLifeSite({
    pages: PAGES,
    images: POOL_IMAGES,
    onPoison: (userAgent) => {
      const victim = invokers.find((w) => userAgent.includes(`long-life ${w.name})`));
      if (victim?.kill()) poisonKills++;
    },
  });
  t.after(site.close);
  const payload = (name: string) => ({
    url: site.seed, rootDir: nas, numberOfPages: 2, maxDepth: MAX_DEPTH, cutoffSize: 1, allowPrivateNetworks: ['127.0.0.0/8'],
    userAgent: `fc-nas-images-crawler/0.1 (long-life ${name})`, requestTimeoutMs: 2000, retries: 1,
    maxAttempts: MAX_ATTEMPTS, maxLinksPerPage: 5000, maxUrlLength: 2048,
  });

  const started = Date.now();
  const outputs: (RunOutput & { invoker: string })[] = [];
  const sizes: { files: number; bytes: number }[] = [];
  let invocations = 0;
  let randomKills = 0;
  let lastDone = false;
  let stopReason = '';
  const stop = () => {
    if (stopReason) return true;
    if (invocations >= RUNS && lastDone) stopReason = 'done';
    else if (Date.now() - started > TIME_CAP_MS) stopReason = `time cap of ${TIME_CAP_MS / 60_000} min reached`;
    else if (poisonKills > MAX_ATTEMPTS + 3) stopReason = `the poison page killed ${poisonKills} runs (maxAttempts ${MAX_ATTEMPTS})`;
    else if ((site.hits.get('/gallery.html') ?? 0) > 3 * MAX_ATTEMPTS) stopReason = 'the gallery page never finished';
    return !!stopReason;
  };

  // An invoker that found the lease held tries again once the holder's run has ended, as the next timer tick would.
  let runEnded: Promise<void> = Promise.resolve();
  let endRun = () => undefined as void;
  const nextRunEnd = () => {
    runEnded = new Promise((resolve) => (endRun = resolve));
  };
  nextRunEnd();
  const loop = async (invoker: Invoker) => {
    while (!stop()) {
      const id = ++invocations;
      const out = await invoker.run(id, payload(invoker.name));
      outputs.push({ ...out, invoker: invoker.name });
      if (id % 100 === 0) sizes.push(folderSize(stateDir));
      if (out.result?.skipped) {
        await Promise.race([runEnded, sleep(500)]);
        continue;
      }
      if (out.result) lastDone = out.result.done;
      endRun();
      nextRunEnd();
    }
  };
  const killer = async () => {
    while (!stop()) {
      await sleep(randomInt(2000, 5000));
      // A random moment of a run in progress: lease, load, fetching, writing an image or the journal, compacting.
      for (let tries = 0; tries < 50 && !stop(); tries++) {
        const busy = invokers.filter((w) => w.busy);
        if (busy.length > 0) {
          await sleep(randomInt(0, 60));
          if (busy[randomInt(0, busy.length - 1)].kill()) randomKills++;
          break;
        }
        await sleep(10);
      }
    }
  };
  await Promise.all([...invokers.map(loop), killer()]);

  // Then let the +60 s invoker finish whatever waits, unkilled (its clock sees every retry time as passed).
  let final: RunOutput | undefined;
  for (let i = 0; i < 15 && !(final?.result && !final.result.skipped && final.result.done); i++) final = await invokers[0].run(++invocations, payload('ahead'));
  await Promise.all(invokers.map((w) => w.stop()));
  const minutes = (Date.now() - started) / 60_000;
  sizes.push(folderSize(stateDir));

  // What the NAS holds.
  const audit = auditNas(nas);
  const missingImages = [...site.expectedImages].filter((h) => !audit.found.has(h)).length;
  const extraImages = [...audit.found].filter((h) => !site.expectedImages.has(h)).length;
  const state = CrawlState.fromStore(await new StateStore(stateDir, path.join(stateDir, 'tmp')).load());
  const visited = site.reachablePages.filter((u) => state.history.has(u) && !state.failed.has(u));
  const failed = site.reachablePages.filter((u) => state.failed.has(u));
  const neither = site.reachablePages.filter((u) => !state.history.has(u) && !state.failed.has(u));
  const failedWithoutReason = failed.filter((u) => !state.failed.get(u)?.trim());
  const poisonReason = state.failed.get(site.poisonPage);
  const othersFailed = failed.filter((u) => u !== site.poisonPage).map((u) => `${new URL(u).pathname}: "${state.failed.get(u)}"`);

  // Cost of the runs that held the lease and finished, in the order they finished.
  const held = outputs.filter((o) => o.result && !o.result.skipped && o.stateOps !== undefined);
  const first = held.slice(0, 100);
  const last = held.slice(-100);
  const ops = (os: RunOutput[]) => mean(os.map((o) => o.stateOps!));
  const ioMs = (os: RunOutput[]) => median(os.map((o) => (o.stateIo ? o.stateIo.loadMs + o.stateIo.writeMs : 0)));
  const opsRatio = ops(last) / Math.max(1, ops(first));
  const maxFiles = Math.max(...sizes.map((s) => s.files));
  const maxBytes = Math.max(...sizes.map((s) => s.bytes));
  const snapshotBytes = Math.max(0, ...fs.readdirSync(stateDir).filter((f) => f.startsWith('snapshot.')).map((f) => fs.statSync(path.join(stateDir, f)).size));
  const byteBound = 4 * snapshotBytes + 2 * 2 ** 20;
  const skipped = outputs.filter((o) => o.result?.skipped).length;
  const failedRuns = outputs.filter((o) => o.result?.error || o.error);
  const offHost = readConnectLog(connectLog).filter((a) => !a.allowed).length;
  if (failedRuns.length) t.diagnostic(`runs that failed by themselves: ${failedRuns.length}; first: ${JSON.stringify(failedRuns[0]).slice(0, 800)}`);
  t.diagnostic(`final run: ${JSON.stringify(final?.result ?? final).slice(0, 600)}`);
  const reasons = new Map<string, number>();
  for (const u of failed) {
    const reason = (state.failed.get(u) ?? '').replace(/\d+/g, 'N').slice(0, 120);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  t.diagnostic(`failure reasons: ${JSON.stringify([...reasons])}`);

  const figures: Figure[] = [
    {
      area: AREA,
      promise: `>= ${RUNS} invocations by two invokers 120 s apart in clock, SIGKILLed at random, in minutes`,
      figure: `${invocations} invocations (${held.length} held the lease, ${skipped} skipped, ${randomKills} SIGKILLs at random, ${poisonKills} by the poison page), ${site.transientFailures()} answers 503/429, in ${minutes.toFixed(1)} min${stopReason === 'done' ? '' : `; stopped: ${stopReason}`}`,
      holds: invocations >= RUNS && stopReason === 'done' && randomKills >= 10 && offHost === 0,
    },
    {
      area: AREA,
      promise: 'final image set equals the site (sha256); no partial file',
      figure: `expected ${site.expectedImages.size}, found ${audit.found.size}, missing ${missingImages}, extra ${extraImages}, partial ${audit.partial.length}${audit.partial.length ? ` (${audit.partial.slice(0, 3).join(', ')})` : ''}`,
      holds: missingImages === 0 && extraImages === 0 && audit.partial.length === 0,
    },
    {
      area: AREA,
      promise: 'every page reachable within the rules is visited or failed with a reason; the poison page is given up',
      figure: `${site.reachablePages.length} reachable: ${visited.length} visited, ${failed.length} failed${poisonReason ? ` (poison page: "${poisonReason}")` : ''}${othersFailed.length ? ` (others: ${othersFailed.slice(0, 3).join('; ')})` : ''}, ${neither.length} neither${neither.length ? ` (${neither.slice(0, 3).join(', ')})` : ''}; frontier ${state.frontier.size}`,
      holds: neither.length === 0 && failedWithoutReason.length === 0 && !!poisonReason && state.frontier.size === 0 && failed.length <= 1,
    },
    {
      area: AREA,
      promise: 'state cost of a run (lease + load + commit) in the last 100 runs within 1.5x of the first 100',
      figure: `file-system calls on the state folder per run: first 100 ${ops(first).toFixed(1)}, last 100 ${ops(last).toFixed(1)} (${opsRatio.toFixed(2)}x); stateIo median ${ioMs(first).toFixed(0)} -> ${ioMs(last).toFixed(0)} ms`,
      holds: held.length >= 200 && opsRatio <= 1.5,
    },
    {
      area: AREA,
      promise: 'the state folder stays bounded',
      figure: `sampled every 100 invocations: at most ${maxFiles} files, ${(maxBytes / 1024).toFixed(0)} KB (bound ${(byteBound / 1024).toFixed(0)} KB: 4 snapshots of ${(snapshotBytes / 1024).toFixed(0)} KB + 2 MB of journal); at the end ${sizes.at(-1)!.files} files`,
      holds: maxFiles <= 2 * 16 + 8 && maxBytes <= byteBound,
    },
  ];
  for (const figure of figures) recordFigure(figure);
  for (const figure of figures) assert.ok(figure.holds, `${figure.promise}: ${figure.figure}`);
});
