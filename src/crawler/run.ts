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
import type { FrontierItem } from './frontier';
import { IMAGE_DIR, STATE_DIR, TEMP_DIR } from '../collection/layout';
import { ManifestWriter } from '../collection/manifest';
import { PageVisitor, type PageOutcome } from './page-visitor';
import type { CrawlConfig } from './payload';
import { RobotsRules } from './robots';
import { readSitemaps } from './sitemaps';
import { CrawlState, isVisitLine } from './state';
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
  /** The frontier is empty: the crawl is complete. */
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
    imagesDownloadedThisRun: 0, frontierSize: 0, failedCount: 0, done: false, skipped: null, durationMs,
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
  private pagesCrawled = 0;
  private imagesSaved = 0;
  private fatal: Error | null = null;
  /** Pages done but not yet on the NAS; written together by one flush (group commit: one sync for many pages). */
  private pending: (PageOutcome & { kind: 'done' })[] = [];
  private flushing: Promise<void> | null = null;
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
  }

  async run(): Promise<CrawlResult> {
    await this.removeTempFiles();
    const state = await this.loadState();
    const budget = this.ctx.deadline - this.started;
    const margin = safetyMarginMs(budget);
    const stopTakingAt = this.ctx.deadline - margin;
    const abort = new AbortController();
    // In-flight fetches are cut off halfway through the margin, leaving the rest to commit and release.
    const hardStopAt = stopTakingAt + margin / 2;
    const hardStop = setTimeout(() => abort.abort(), Math.max(0, hardStopAt - Date.now()));
    const fetcher = new Fetcher({ ...this.config, signal: abort.signal, stopRequestsAt: hardStopAt });
    const robots = this.config.respectRobots ? new RobotsRules(fetcher, this.config.userAgent) : null;
    const visitor = new PageVisitor(this.config, state, fetcher, robots, abort.signal, this.logger);
    try {
      // In dfs the seed goes on top of its sitemap's pages, in bfs before them: either way it is visited first.
      const sitemapPages = () => this.seedFromSitemaps(state, visitor, fetcher, robots, abort.signal);
      if (this.config.order === 'dfs') await sitemapPages();
      await this.seed(state);
      if (this.config.order === 'bfs') await sitemapPages();
      const postponed = await this.crawl(state, visitor, stopTakingAt);
      // Back into memory for the counts; on disk they never left the frontier.
      for (const item of postponed.reverse()) state.frontier.putBack(item);
    } finally {
      clearTimeout(hardStop);
      // A failed flush was already logged by the page that awaited it; here it only must not skip the clean-up.
      await this.flushing?.catch((e: unknown) => (this.fatal ??= e as Error));
      await fetcher.close();
      await this.store.close();
    }
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
      done: frontierSize === 0 && !this.fatal,
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
    let state = CrawlState.fromStore(loaded);
    if (state.skippedLines) this.logger.warn('crawl state journal lines skipped', { lines: state.skippedLines });
    if (this.config.reset) {
      this.logger.info('crawl state reset by the payload', { previousPages: state.totalCrawlCount });
      state = new CrawlState();
    }
    // Compact when asked to start over, after damage, or when the journal outgrows the snapshot.
    const damaged = loaded.warnings.length > 0 || state.skippedLines > 0;
    if (this.config.reset || damaged || loaded.journalBytes > Math.max(COMPACT_MIN_BYTES, loaded.snapshotBytes / 2)) {
      await this.timedWrite(() => this.store.compact(state.toSnapshot()));
    }
    this.logger.debug('crawl state loaded', {
      generation: loaded.generation, visited: state.history.size, frontier: state.frontier.size, ms: Math.round(performance.now() - loadStarted),
    });
    return state;
  }

  private async seed(state: CrawlState): Promise<void> {
    const seed = normaliseUrl(this.config.url);
    if (!seed || state.history.has(seed) || state.frontier.has(seed)) return;
    await this.commit({ kind: 'done', journal: [state.push(seed, 0, this.config.order)!], manifest: [], errors: [], imagesSaved: 0 });
  }

  /** Once per crawl, the seed host's sitemaps add the pages that no link may lead to (sitemaps.ts). */
  private async seedFromSitemaps(state: CrawlState, visitor: PageVisitor, fetcher: Fetcher, robots: RobotsRules | null, signal: AbortSignal): Promise<void> {
    const origin = new URL(this.config.url).origin;
    if (!this.config.sitemaps || this.config.maxDepth === 0 || state.sitemapsRead.has(origin)) return;
    const found = await readSitemaps(this.config.url, fetcher, robots, signal, this.logger);
    if (!found) return; // robots.txt unavailable, or the run is stopping: a later run reads them
    const seed = normaliseUrl(this.config.url);
    const pushed = visitor.pushLinks(found.pages.filter((page) => page !== seed), 1);
    this.logger.info('sitemaps read', { origin, files: found.files, pages: found.pages.length, pushed: pushed.length });
    await this.commit({ kind: 'done', journal: [...pushed, state.sitemapsDone(origin)], manifest: [], errors: [], imagesSaved: 0 });
  }

  /** The page loop; returns the pages postponed to a later run. */
  private async crawl(state: CrawlState, visitor: PageVisitor, stopTakingAt: number): Promise<FrontierItem[]> {
    const postponed: FrontierItem[] = [];
    const inFlight = new Set<Promise<void>>();
    // A page frees its fetch slot as soon as its outcome is in memory; its sync to the NAS goes on in the background
    // (group commit), so fetching never waits for fsync. Commits are flushed in the order pages finished.
    const committing = new Set<Promise<void>>();
    let taken = 0;
    const mayTake = () => taken < this.config.numberOfPages && Date.now() < stopTakingAt && !this.lease.lost && !this.fatal;
    const fail = (item: FrontierItem, e: unknown) => {
      this.fatal ??= e as Error;
      postponed.push(item);
      this.logger.error('page visit failed', { url: item.url, error: e });
    };
    while (mayTake()) {
      const item = state.frontier.take(this.config.order);
      if (!item) {
        if (inFlight.size === 0) break;
        await Promise.race(inFlight);
        continue;
      }
      taken++;
      const task = visitor
        .visit(item)
        .then((outcome) => {
          if (outcome.kind === 'postponed') {
            taken--;
            postponed.push(item);
            return;
          }
          const commit = this.commit(outcome)
            .catch((e: unknown) => fail(item, e))
            .finally(() => committing.delete(commit));
          committing.add(commit);
        })
        .catch((e: unknown) => fail(item, e))
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= this.config.concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await Promise.all(committing);
    if (this.lease.lost) this.fatal ??= new Error('the lease was lost to another invocation; the run stopped early');
    return postponed;
  }

  /** Settles once the page's lines are synced to the NAS, together with those of pages that finished meanwhile. */
  private commit(outcome: PageOutcome & { kind: 'done' }): Promise<void> {
    if (this.lease.lost) return Promise.resolve(); // another invocation owns the state now: write nothing
    this.pending.push(outcome);
    this.flushing ??= this.flush();
    return this.flushing;
  }

  /** Images are already in img/; the manifest lines go first, then the journal lines that mark the pages done. */
  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.lease.lost) {
        const batch = this.pending.splice(0);
        const manifestLines = batch.flatMap((o) => o.manifest);
        if (manifestLines.length > 0) await this.timedWrite(() => this.manifest.append(manifestLines));
        await this.timedWrite(() => this.store.append(batch.flatMap((o) => o.journal)));
        for (const outcome of batch) {
          this.pagesCrawled += outcome.journal.filter(isVisitLine).length;
          this.imagesSaved += outcome.imagesSaved;
          for (const line of outcome.errors) if (this.errors.length < MAX_ERROR_LINES) this.errors.push(line);
        }
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
