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
import { GroupCommit, timedIo, type Queued, type StateIo } from './group-commit';
import { PageVisitor, type Changes, type Visit } from './page-visitor';
import type { CrawlConfig } from './payload';
import { sitemapInterval } from './revisit-policy';
import type { PageRecord } from './revisits';
import { RobotsRules } from './robots';
import { inScope } from './scope';
import { readSitemaps } from './sitemaps';
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
  /** Nothing waits, in the frontier or for a retry: the crawl is complete (revisits may still come). */
  done: boolean;
  /** Nothing was due at the start of the run (no new page, retry, revisit or sitemap read): it made no request. */
  idle: boolean;
  /** Visited pages visited again this run (refresh), whatever came of it. */
  pagesRevisitedThisRun: number;
  /** Revisits answered 304 Not Modified. */
  notModifiedThisRun: number;
  /** Revisits that found the page's links or images changed. */
  changedThisRun: number;
  /** The earliest time a visited page is due again (ISO), or null when no page is scheduled (refresh: false). */
  nextRevisitAt: string | null;
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
export type { StateIo } from './group-commit';

const MAX_ERROR_LINES = 50;

type DueRevisit = { url: string; record: PageRecord };

export function failedResult(message: string): CrawlResult {
  return { ...emptyResult(0), error: message };
}

function emptyResult(durationMs: number): CrawlResult {
  return {
    totalCrawlCount: 0, totalImageDownloaded: 0, totalImageSize: 0, errorStack: [], pagesCrawledThisRun: 0,
    imagesDownloadedThisRun: 0, frontierSize: 0, failedCount: 0, retryingCount: 0, done: false, idle: false,
    pagesRevisitedThisRun: 0, notModifiedThisRun: 0, changedThisRun: 0, nextRevisitAt: null, skipped: null, durationMs,
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
  // requestId (from the logger), action, status and durationMs mean what they mean on the image function's
  // "image request" line, so one log-service query charts both (docs/deployment.md).
  const status = result.error ? 500 : result.skipped ? 409 : 200;
  logger.info('crawl run finished', { action: 'crawl', status, ...result, errorStack: result.errorStack.length, stateIo: crawlRun && rounded(crawlRun.stateIo) });
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
  private readonly errors: string[] = [];
  private readonly now: () => number;
  private pagesCrawled = 0;
  private imagesSaved = 0;
  private fatal: Error | null = null;
  private readonly writes: GroupCommit;
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
    this.store = new StateStore(path.join(config.rootDir, STATE_DIR), path.join(config.rootDir, TEMP_DIR), lease);
    this.writes = new GroupCommit(this.store, new ManifestWriter(config.rootDir), lease, this.stateIo, (synced) => this.count(synced));
    this.now = ctx.now ?? Date.now;
  }

  async run(): Promise<CrawlResult> {
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
    const visitor = new PageVisitor({
      config: this.config, state, fetcher, robots, signal: abort.signal, logger: this.logger, now: this.now,
      commit: (changes) => this.commit(changes),
      onLinks: () => this.wake(),
    });
    const work = this.dueWork(state);
    // Only a crawl with pages visited before revisits were on pays for looking up its links' records.
    visitor.adopting = this.config.refresh !== false && state.revisits.unrecorded() > 0;
    try {
      // Recorded before anything is taken (a no-op in memory: the load put unfinished pages back already), and
      // written ahead of the run's first change, so a replay puts them back at the same point.
      this.startLine = state.runStarted();
      // In dfs the seed goes on top of its sitemap's pages, in bfs before them: either way it is visited first.
      // Pages a sitemap's <lastmod> made due join this run's revisits.
      const sitemapPages = async () => {
        if (work.sitemaps) work.revisits.push(...(await this.readSitemaps(state, fetcher, robots, abort.signal)).slice(0, this.config.numberOfPages - work.revisits.length));
      };
      if (this.config.order === 'dfs') await sitemapPages();
      await this.applySettings(state, visitor);
      if (this.config.order === 'bfs') await sitemapPages();
      if (!work.idle) await this.crawl(state, visitor, stopTakingAt, work.revisits);
    } finally {
      clearTimeout(hardStop);
      // A failed write was already logged by the page that awaited it; here it only must not skip the clean-up.
      await this.writes.settled().catch((e: unknown) => (this.fatal ??= e as Error));
      await fetcher.close();
      await this.store.close();
    }
    // Back into memory for the counts; on disk they are put back by the next run's replay.
    state.putBackUnfinished();
    const frontierSize = state.frontier.size;
    const { revisited, notModified, changed } = visitor.revisitCounts;
    const nextDue = this.config.refresh ? state.revisits.due(0, 0, () => true).nextDue : 0;
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
      idle: work.idle,
      pagesRevisitedThisRun: revisited,
      notModifiedThisRun: notModified,
      changedThisRun: changed,
      nextRevisitAt: nextDue ? new Date(nextDue * 1000).toISOString() : null,
      skipped: null,
      durationMs: Date.now() - this.started,
      ...(this.fatal ? { error: this.fatal.message } : {}),
    };
  }

  /**
   * What is due at the start of the run, decided from the state alone. A run with nothing due (idle) makes no
   * request: not even robots.txt.
   */
  private dueWork(state: CrawlState): { sitemaps: boolean; idle: boolean; revisits: DueRevisit[] } {
    const { config } = this;
    const now = this.now();
    const seed = normaliseUrl(config.url);
    const origin = new URL(config.url).origin;
    const readAt = state.sitemapsRead.get(origin);
    const sitemaps = config.sitemaps && config.maxDepth !== 0 && (readAt === undefined || (config.refresh !== false && readAt + sitemapInterval(config.refresh) <= now / 1000));
    const seedKnown = !seed || state.history.has(seed) || state.waitingPages.has(seed);
    // Earliest due first, at most a run's pages. Pages that wait as new ones (pushed again nearer the seed, or
    // retried) are not revisited meanwhile, nor pages left outside the scope by a new seed or scope.
    const seedUrl = seed ? new URL(seed) : null;
    const skip = (url: string) => state.frontier.has(url) || state.waitingPages.has(url) || state.failed.has(url) || (seedUrl !== null && !inScope(new URL(url), seedUrl, config.scope));
    const revisits = config.refresh ? state.revisits.due(Math.floor(now / 1000), config.numberOfPages, skip).pages : [];
    const revisitDue = revisits.length > 0 || this.seedToAdopt(state);
    const idle = !sitemaps && seedKnown && state.frontier.size === 0 && state.duePages(now).length === 0 && state.dueImages(now).length === 0 && !revisitDue;
    return { sitemaps, idle, revisits };
  }

  /** The seed of a crawl visited before revisits were on: scheduling it starts the revisits (PageVisitor.adopt). */
  private seedToAdopt(state: CrawlState): boolean {
    const seed = normaliseUrl(this.config.url);
    return !!seed && this.config.refresh !== false && state.history.has(seed) && !state.failed.has(seed) && !state.revisits.get(seed);
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
      for (const section of state.damagedSections) this.logger.warn('crawl state section damaged, recovered', { section });
    }
    const version = loaded.snapshot?.meta.version ?? 1;
    if (loaded.snapshot && version !== STATE_VERSION) this.logger.info('crawl state format migrated', { from: version, to: STATE_VERSION });
    // Compact when asked to start over, after damage, when the journal outgrows the snapshot, and to give the state
    // a snapshot of this format (the first run, or a migration), so that its journal is never read by an older crawler.
    const damaged = loaded.warnings.length > 0 || state.skippedLines > 0 || state.damagedSections.length > 0;
    const unversioned = !loaded.snapshot || version !== STATE_VERSION;
    if (this.config.reset || damaged || unversioned || this.store.compactionDue()) {
      await timedIo(this.stateIo, () => this.store.compact(state.toSnapshot()));
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
  private async applySettings(state: CrawlState, visitor: PageVisitor): Promise<void> {
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
    if (this.seedToAdopt(state)) journal.push(...visitor.adopt([seed]));
    if (journal.length > 0) await this.commit({ journal });
  }

  /**
   * Once per crawl, and with revisits every sitemapInterval, the seed host's sitemaps add the pages that no link may lead
   * to (sitemaps.ts). They are pushed as one link batch of the seed at depth 1, after the scope and URL-length rules
   * a page's links pass. A known page whose `<lastmod>` is newer than its last visit is made due now.
   */
  private async readSitemaps(state: CrawlState, fetcher: Fetcher, robots: RobotsRules | null, signal: AbortSignal): Promise<DueRevisit[]> {
    const { config } = this;
    const seed = normaliseUrl(config.url);
    if (!seed) return [];
    const origin = new URL(config.url).origin;
    const found = await readSitemaps(config.url, fetcher, robots, signal, this.logger);
    if (!found) return []; // robots.txt unavailable, or the run is stopping: a later run reads them
    const seedUrl = new URL(seed);
    const pages = found.pages.filter((page) => page !== seed && page.length <= config.maxUrlLength && inScope(new URL(page), seedUrl, config.scope));
    const line = state.pushLinks(seed, 1, config.order === 'dfs' ? [...pages].reverse() : pages, config.order);
    const nowS = Math.floor(this.now() / 1000);
    const earlier: DueRevisit[] = [];
    if (config.refresh) {
      for (const [page, lastmod] of found.lastmod) {
        const record = state.revisits.get(page);
        if (!record || record.due === 0 || record.due <= nowS || lastmod <= record.visited || state.frontier.has(page) || state.waitingPages.has(page)) continue;
        earlier.push({ url: page, record: { ...record, due: nowS } });
      }
    }
    this.logger.info('sitemaps read', { origin, files: found.files, pages: found.pages.length, pushed: pages.length, dueEarlier: earlier.length });
    const scheduled = earlier.map(({ url, record }) => state.scheduled(url, record));
    await this.commit({ journal: [...(line ? [line] : []), ...scheduled, state.sitemapsDone(origin, nowS)] });
    return earlier;
  }

  /**
   * The page loop. The next page started is always what is due first: images and pages whose retry time has come,
   * then the top of the stack. A page that was taken before and did not finish (it may have crashed the process)
   * is a suspect and is visited alone: only such a solo attempt counts if it does not finish (CrawlState.suspects).
   */
  private async crawl(state: CrawlState, visitor: PageVisitor, stopTakingAt: number, revisits: DueRevisit[]): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const now = this.now();
    const dueImages = state.dueImages(now);
    const duePages = state.duePages(now);
    const refresh = this.config.refresh;
    const seed = normaliseUrl(this.config.url);
    // A revisited page's depth, for the links it may push: recorded when maxDepth needs it, else 0 or 1.
    const depth = (url: string) => state.depths.get(url) ?? (url === seed ? 0 : 1);
    let revisitsTaken = 0;
    // While new pages wait, revisits take at most `share` of the pages started, interleaved with them.
    const revisitNext = () => {
      if (revisits.length === 0 || !refresh) return false;
      if (state.frontier.size === 0) return true;
      return revisitsTaken + 1 <= refresh.share * Math.min(taken + 1, this.config.numberOfPages);
    };
    let taken = 0;
    const mayTake = () => taken < this.config.numberOfPages && Date.now() < stopTakingAt && !this.lease.lost && !this.fatal;
    // A page holds its slot until its outcome is known, not until it is synced (GroupCommit syncs behind): the run
    // still waits for every task's sync before it ends.
    let working = 0;
    const launch = (url: string, work: () => Promise<Visit | void>) => {
      working++;
      const release = () => {
        working--;
        this.wake();
      };
      const task = work()
        .then(
          (visit) => {
            release();
            return visit?.committed;
          },
          (e: unknown) => {
            release();
            throw e;
          },
        )
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
      if (working >= this.config.concurrency) {
        await this.changed();
        continue;
      }
      const image = dueImages.shift();
      if (image) {
        launch(image[0], async () => void (await visitor.retryImage(image[0], image[1].page)));
        continue;
      }
      const retry = duePages.shift();
      const revisit = !retry && revisitNext() ? revisits.shift() : undefined;
      if (revisit) revisitsTaken++;
      const next = retry
        ? { item: { url: retry[0], depth: retry[1].depth }, line: state.attempt(retry[0]) }
        : revisit
          ? { item: { url: revisit.url, depth: depth(revisit.url) }, line: state.attempt(revisit.url) }
          : state.take(this.config.order);
      if (!next) {
        if (inFlight.size === 0) break;
        await this.changed();
        continue;
      }
      taken++;
      const { item } = next;
      const attempted = this.queue({ journal: [next.line] });
      const attempts = state.attemptsAt(item.url);
      if (attempts > this.config.maxAttempts) {
        const reason = `did not finish in ${this.config.maxAttempts} runs`;
        // A revisit that keeps failing to finish is put off for maxInterval, not failed: the page was fine before.
        let changes: Changes;
        if (revisit && refresh) changes = { journal: [state.scheduled(item.url, { ...revisit.record, due: Math.floor(this.now() / 1000) + refresh.maxIntervalS })] };
        else {
          const failedLine = state.failedPage(item.url, reason);
          const unscheduled = visitor.unscheduled(item.url);
          changes = { journal: [failedLine, ...unscheduled.journal], gone: unscheduled.gone };
        }
        this.logger.warn(revisit ? 'page revisit put off' : 'page failed', { url: item.url, reason });
        launch(item.url, () => this.commit({ ...changes, errors: [`${item.url}: ${reason}`] }));
        continue;
      }
      const suspect = state.suspects.has(item.url);
      if (suspect) await Promise.all(inFlight);
      // The attempt line is written before the request, so it outlives a crash the page causes; a suspect's is
      // synced too. Either way no other page waits for it.
      const task = launch(item.url, () => (suspect ? attempted.synced : attempted.written).then(() => visitor.visit(item, revisit?.record)));
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

  /** Queues the changes to be written and synced (GroupCommit); the run's `S` line goes ahead of its first change. */
  private queue(changes: Changes): Queued {
    if (this.startLine) {
      this.writes.queue({ journal: [this.startLine] });
      this.startLine = null;
    }
    return this.writes.queue(changes);
  }

  private commit(changes: Changes): Promise<void> {
    return this.queue(changes).synced;
  }

  /** The result's counts and error lines come from what is synced. */
  private count(synced: Changes[]): void {
    for (const changes of synced) {
      this.pagesCrawled += changes.journal.filter(isVisitLine).length;
      this.imagesSaved += changes.journal.filter(isImageSavedLine).length;
      for (const line of changes.errors ?? []) if (this.errors.length < MAX_ERROR_LINES) this.errors.push(line);
    }
  }
}
