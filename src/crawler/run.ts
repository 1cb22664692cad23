/**
 * One crawler invocation: take the lease, load the state from the NAS, visit pages until numberOfPages, an empty
 * frontier or the time budget, committing each page's changes to the journal as it completes, then release.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log';
import { acquireLease, type Lease } from '../nas/lease';
import { StateStore } from '../nas/state-store';
import { Fetcher } from './fetcher';
import { IMAGE_DIR, STATE_DIR, TEMP_DIR } from '../collection/layout';
import { ManifestWriter } from '../collection/manifest';
import { refuseUnmountedNas } from './nas-mount';
import { PageVisitor, type Changes } from './page-visitor';
import type { CrawlConfig } from './payload';
import { RobotsRules } from './robots';
import { inScope } from './scope';
import { CrawlState, isImageSavedLine, isVisitLine, STATE_VERSION, type CrawlSettings } from './state';
import { normaliseUrl } from './url';

export interface CrawlResult {
  totalCrawlCount: number;
  totalImageDownloaded: number;
  totalImageSize: number;
  /** What went wrong this run, one "url: reason" line each (capped). */
  errorStack: string[];
  pagesCrawledThisRun: number;
  imagesDownloadedThisRun: number;
  frontierSize: number;
  failedCount: number;
  /** Pages and images that met a transient failure and wait for a later attempt. */
  retryingCount: number;
  /** Nothing waits, in the frontier or for a retry: the crawl is complete. */
  done: boolean;
  skipped: 'locked' | null;
  durationMs: number;
  /** Set when the invocation as a whole failed (bad payload, unusable state). */
  error?: string;
}

export interface RunContext {
  requestId: string;
  /** Epoch ms when FC kills the invocation. */
  deadline: number;
  logger: Logger;
  /** The clock that retries are scheduled by (default Date.now); tests move it to simulate later runs. */
  now?: () => number;
  /** The environment, to tell FC from a local run (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Time spent on state I/O in one run; logged with the run, since a slow NAS shows there first. */
export interface StateIo {
  /** Loading the snapshot and journal. */
  loadMs: number;
  /** Manifest and journal appends with their syncs, and compactions. */
  writeMs: number;
  writes: number;
}

const MAX_ERROR_LINES = 50;
const COMPACT_MIN_BYTES = 1024 * 1024;

export function failedResult(message: string): CrawlResult {
  return { ...emptyResult(0), error: message };
}

function emptyResult(durationMs: number): CrawlResult {
  return {
    totalCrawlCount: 0, totalImageDownloaded: 0, totalImageSize: 0, errorStack: [], pagesCrawledThisRun: 0,
    imagesDownloadedThisRun: 0, frontierSize: 0, failedCount: 0, retryingCount: 0, done: false, skipped: null, durationMs,
  };
}

/** Stop taking pages this long before the deadline: max(10 s, 10 % of the budget), at most half of it. */
export function safetyMarginMs(budgetMs: number): number {
  return budgetMs <= 0 ? 0 : Math.min(Math.max(10_000, budgetMs / 10), budgetMs / 2);
}

export async function runCrawl(config: CrawlConfig, ctx: RunContext): Promise<CrawlResult> {
  const started = Date.now();
  const logger = ctx.logger.child({ rootDir: config.rootDir, url: config.url });
  const stateDir = path.join(config.rootDir, STATE_DIR);
  const tempDir = path.join(config.rootDir, TEMP_DIR);
  let result: CrawlResult;
  let lease: Lease | null = null;
  let crawlRun: CrawlRun | null = null;
  try {
    await refuseUnmountedNas(config.rootDir, ctx.env ?? process.env);
    await createRootDir(config.rootDir);
    await fs.mkdir(tempDir, { recursive: true });
    await fs.mkdir(path.join(config.rootDir, IMAGE_DIR), { recursive: true });
    lease = await acquireLease(stateDir, { requestId: ctx.requestId, logger, tempDir });
    crawlRun = lease ? new CrawlRun(config, ctx, logger, lease, started) : null;
    result = crawlRun ? await crawlRun.run() : { ...emptyResult(0), skipped: 'locked' };
  } catch (e) {
    logger.error('crawl run failed', { error: e });
    result = failedResult(`crawl failed: ${(e as Error).message}`);
  } finally {
    await lease?.release().catch((e: unknown) => logger.error('lease release failed', { error: e }));
  }
  result.durationMs = Date.now() - started;
  logger.info('crawl run finished', { ...result, errorStack: result.errorStack.length, stateIo: crawlRun && rounded(crawlRun.stateIo) });
  return result;
}

function rounded(io: StateIo): StateIo {
  return { loadMs: Math.round(io.loadMs), writeMs: Math.round(io.writeMs), writes: io.writes };
}

/** rootDir itself may be created, but not its parent: a missing parent means the NAS is not mounted. */
async function createRootDir(rootDir: string): Promise<void> {
  try {
    await fs.mkdir(rootDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code === 'ENOENT') throw new Error(`the parent of rootDir ${rootDir} does not exist (is the NAS mounted?)`);
    throw e;
  }
}

class CrawlRun {
  private readonly store: StateStore;
  private readonly manifest: ManifestWriter;
  private readonly errors: string[] = [];
  private readonly now: () => number;
  private pagesCrawled = 0;
  private imagesSaved = 0;
  private fatal: Error | null = null;
  /** Changes made but not yet on the NAS; written together by one flush (group commit: one sync for many). */
  private pending: Changes[] = [];
  private flushing: Promise<void> | null = null;
  /** The run's `S` line, written ahead of its first change. */
  private startLine: string | null = null;
  /** Wakes the page loop when a slot frees or links were pushed. */
  private wakeUp: (() => void) | null = null;
  readonly stateIo: StateIo = { loadMs: 0, writeMs: 0, writes: 0 };

  constructor(
    private readonly config: CrawlConfig,
    private readonly ctx: RunContext,
    private readonly logger: Logger,
    private readonly lease: Lease,
    private readonly started: number,
  ) {
    this.store = new StateStore(path.join(config.rootDir, STATE_DIR), path.join(config.rootDir, TEMP_DIR));
    this.manifest = new ManifestWriter(config.rootDir);
    this.now = ctx.now ?? Date.now;
  }

  async run(): Promise<CrawlResult> {
    await this.removeTempFiles();
    const state = await this.loadState();
    const budget = this.ctx.deadline - this.started;
    const margin = safetyMarginMs(budget);
    const stopTakingAt = this.ctx.deadline - margin;
    const abort = new AbortController();
    // In-flight fetches are cut off halfway through the margin, leaving the rest to commit and release.
    const hardStop = setTimeout(() => abort.abort(), Math.max(0, stopTakingAt + margin / 2 - Date.now()));
    const fetcher = new Fetcher({ ...this.config, signal: abort.signal });
    const robots = this.config.respectRobots ? new RobotsRules(fetcher, this.config.userAgent) : null;
    const visitor = new PageVisitor({
      config: this.config, state, fetcher, robots, signal: abort.signal, logger: this.logger, now: this.now,
      commit: (changes) => this.commit(changes),
      onLinks: () => this.wake(),
    });
    try {
      // Recorded before anything is taken (a no-op in memory: the load put unfinished pages back already), and
      // written ahead of the run's first change, so a replay puts them back at the same point.
      this.startLine = state.runStarted();
      await this.applySettings(state);
      await this.crawl(state, visitor, stopTakingAt);
    } finally {
      clearTimeout(hardStop);
      // A failed flush was already logged by the page that awaited it; here it only must not skip the clean-up.
      await this.flushing?.catch((e: unknown) => (this.fatal ??= e as Error));
      await fetcher.close();
      await this.store.close();
    }
    // Back into memory for the counts; on disk they are put back by the next run's replay.
    state.frontier.putBackTaken();
    const frontierSize = state.frontier.size;
    return {
      totalCrawlCount: state.totalCrawlCount,
      totalImageDownloaded: state.totalImageDownloaded,
      totalImageSize: state.totalImageSize,
      errorStack: this.errors.slice(0, MAX_ERROR_LINES),
      pagesCrawledThisRun: this.pagesCrawled,
      imagesDownloadedThisRun: this.imagesSaved,
      frontierSize,
      failedCount: state.failed.size,
      retryingCount: state.retryingCount,
      done: frontierSize === 0 && state.retryingCount === 0 && !this.fatal,
      skipped: null,
      durationMs: Date.now() - this.started,
      ...(this.fatal ? { error: this.fatal.message } : {}),
    };
  }

  /** Files left in the temp folder by a killed run; nobody else writes there while we hold the lease. */
  private async removeTempFiles(): Promise<void> {
    const dir = path.join(this.config.rootDir, TEMP_DIR);
    for (const name of await fs.readdir(dir)) await fs.rm(path.join(dir, name), { force: true, recursive: true });
  }

  private async loadState(): Promise<CrawlState> {
    const loadStarted = performance.now();
    const loaded = await this.store.load();
    this.stateIo.loadMs += performance.now() - loadStarted;
    for (const warning of loaded.warnings) this.logger.warn('crawl state damaged, recovered', { warning });
    let state: CrawlState;
    if (this.config.reset) {
      // Not even read: reset is the way out of a state this version cannot read.
      this.logger.info('crawl state reset by the payload', { generation: loaded.generation });
      state = new CrawlState();
    } else {
      state = CrawlState.fromStore(loaded);
      if (state.skippedLines) this.logger.warn('crawl state journal lines skipped', { lines: state.skippedLines });
    }
    const version = loaded.snapshot?.meta.version ?? 1;
    if (loaded.snapshot && version !== STATE_VERSION) this.logger.info('crawl state format migrated', { from: version, to: STATE_VERSION });
    // Compact when asked to start over, after damage, when the journal outgrows the snapshot, and to migrate an older
    // snapshot. (Not on the very first run: a snapshot costs zlib.crc32, which FC's Node 20.11 lacks; see docs/crawler.md.)
    const damaged = loaded.warnings.length > 0 || state.skippedLines > 0;
    const migrating = loaded.snapshot !== null && version !== STATE_VERSION;
    if (this.config.reset || damaged || migrating || loaded.journalBytes > Math.max(COMPACT_MIN_BYTES, loaded.snapshotBytes / 2)) {
      await this.timedWrite(() => this.store.compact(state.toSnapshot()));
    }
    this.logger.debug('crawl state loaded', {
      generation: loaded.generation, visited: state.history.size, frontier: state.frontier.size, retrying: state.retryingCount,
      ms: Math.round(performance.now() - loadStarted),
    });
    return state;
  }

  /**
   * The seed, scope and maxDepth are kept with the state. A new seed is pushed (and logged); when the seed or the
   * scope changed, waiting pages outside the new scope are dropped from the frontier (not from the history).
   */
  private async applySettings(state: CrawlState): Promise<void> {
    const seed = normaliseUrl(this.config.url);
    if (!seed) return;
    const settings: CrawlSettings = { url: seed, scope: this.config.scope, maxDepth: this.config.maxDepth ?? null };
    const before = state.settings;
    const journal: string[] = [];
    if (!before || before.url !== settings.url || before.scope !== settings.scope || before.maxDepth !== settings.maxDepth) {
      if (before && (before.url !== settings.url || before.scope !== settings.scope)) {
        const seedUrl = new URL(seed);
        const waiting = [...state.frontier.entries().map((item) => item.url), ...state.waitingPages.keys()];
        const outside = waiting.filter((url) => !inScope(new URL(url), seedUrl, this.config.scope));
        for (const url of outside) journal.push(state.dropped(url));
        this.logger.info('crawl settings changed: the new seed is pushed, pages outside the new scope are dropped', { before, after: settings, dropped: outside.length });
      } else if (before) {
        this.logger.info('crawl settings changed', { before, after: settings });
      }
      journal.push(state.configured(settings));
    }
    const seedLine = state.waitingPages.has(seed) ? null : state.push(seed, 0, this.config.order);
    if (seedLine) journal.push(seedLine);
    if (journal.length > 0) await this.commit({ journal });
  }

  /**
   * The page loop. The next page started is always what is due first: images and pages whose retry time has come,
   * then the top of the stack. A page that was taken before and did not finish (it may have crashed the process)
   * is visited alone, so that it cannot take other pages' attempts down with it.
   */
  private async crawl(state: CrawlState, visitor: PageVisitor, stopTakingAt: number): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const now = this.now();
    const dueImages = state.dueImages(now);
    const duePages = state.duePages(now);
    let taken = 0;
    const mayTake = () => taken < this.config.numberOfPages && Date.now() < stopTakingAt && !this.lease.lost && !this.fatal;
    const launch = (url: string, work: () => Promise<unknown>) => {
      const task = work()
        .then(
          () => undefined,
          (e: unknown) => {
            this.fatal ??= e as Error;
            this.logger.error('page visit failed', { url, error: e });
          },
        )
        .finally(() => {
          inFlight.delete(task);
          this.wake();
        });
      inFlight.add(task);
      return task;
    };
    while (mayTake()) {
      if (inFlight.size >= this.config.concurrency) {
        await this.changed();
        continue;
      }
      const image = dueImages.shift();
      if (image) {
        launch(image[0], () => visitor.retryImage(image[0], image[1].page));
        continue;
      }
      const retry = duePages.shift();
      const next = retry ? { item: { url: retry[0], depth: retry[1].depth }, line: state.retry(retry[0]) } : state.take(this.config.order);
      if (!next) {
        if (inFlight.size === 0) break;
        await this.changed();
        continue;
      }
      taken++;
      const { item } = next;
      const attempted = this.commit({ journal: [next.line] });
      const attempts = state.attemptsAt(item.url);
      if (attempts > this.config.maxAttempts) {
        const reason = `did not finish in ${this.config.maxAttempts} runs`;
        this.logger.warn('page failed', { url: item.url, reason });
        launch(item.url, () => this.commit({ journal: [state.failedPage(item.url, reason)], errors: [`${item.url}: ${reason}`] }));
        continue;
      }
      const suspect = !retry && attempts > 1;
      if (suspect) await Promise.all(inFlight);
      const task = launch(item.url, () => attempted.then(() => visitor.visit(item)));
      if (suspect) {
        this.logger.info('page visited alone: an earlier attempt did not finish', { url: item.url, attempts });
        await task;
      }
    }
    await Promise.all(inFlight);
    if (this.lease.lost) this.fatal ??= new Error('the lease was lost to another invocation; the run stopped early');
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => (this.wakeUp = resolve));
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    wakeUp?.();
  }

  /**
   * Settles once the changes are synced to the NAS, together with those made meanwhile. Called in the same step as
   * the state change that made the lines, so the journal holds them in the order they changed the state.
   */
  private commit(changes: Changes): Promise<void> {
    if (this.lease.lost) return Promise.resolve(); // another invocation owns the state now: write nothing
    if (this.startLine) {
      this.pending.push({ journal: [this.startLine] });
      this.startLine = null;
    }
    this.pending.push(changes);
    this.flushing ??= this.flush();
    return this.flushing;
  }

  /** Images are already in img/; the manifest lines go first, then the journal lines that record them. */
  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.lease.lost) {
        const batch = this.pending.splice(0);
        const manifestLines = batch.flatMap((c) => c.manifest ?? []);
        if (manifestLines.length > 0) await this.timedWrite(() => this.manifest.append(manifestLines));
        const journal = batch.flatMap((c) => c.journal);
        await this.timedWrite(() => this.store.append(journal));
        this.pagesCrawled += journal.filter(isVisitLine).length;
        this.imagesSaved += journal.filter(isImageSavedLine).length;
        for (const line of batch.flatMap((c) => c.errors ?? [])) if (this.errors.length < MAX_ERROR_LINES) this.errors.push(line);
      }
    } finally {
      // Cleared in the same step as the last check of `pending`, so a later commit always starts a new flush.
      this.flushing = null;
    }
  }

  private async timedWrite(write: () => Promise<void>): Promise<void> {
    const started = performance.now();
    try {
      await write();
    } finally {
      this.stateIo.writeMs += performance.now() - started;
      this.stateIo.writes++;
    }
  }
}
