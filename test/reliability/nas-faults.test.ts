/**
 * NAS faults: a state write that fails (read-only mount, full file system) must give a clear error result and
 * leave the previous state intact for the next healthy run; a damaged or truncated state file must be detected
 * and recovered from the last good snapshot plus the journal, never by silently starting over.
 */
import { test, type TestContext } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { assertFigure, recordFigure } from './support/figures';
import { startGeneratedSite, type GeneratedSite } from './support/generated-site';
import { listFiles, lostOrRewritten, snapshot } from './support/nas-inspect';
import { fillUp, mountReadOnly, mountTmpfs } from './support/mounts';
import { tempDir } from './support/paths';
import { crawlOnce, describeRun, type CrawlRun } from './support/processes';
import { sleep, waitUntil } from './support/timing';
import { DEFAULT_LEASE_TTL_MS } from '../../src/nas/lease';

const AREA = 'crawler: NAS faults';

let site: GeneratedSite;
let tmp: ReturnType<typeof tempDir>;

test.before(async () => {
  tmp = tempDir('nas-faults');
  // 30 ms per response: a run lasts long enough for a fault to strike after its first page.
  site = await startGeneratedSite({ pages: 300, images: 30, latencyMs: 30 });
});

test.after(async () => {
  await site.close();
  tmp.remove();
});

interface Measured {
  run: CrawlRun;
  /** Page paths the site served during the run. */
  pages: Set<string>;
}

/** A crawl run; `midRun` (if given) breaks the NAS once the run has fetched its first page. */
async function crawl(nas: string, midRun?: () => void): Promise<Measured> {
  const before = new Map(site.hits);
  const served = () => [...site.hits].filter(([p, n]) => p.startsWith('/p/') && n > (before.get(p) ?? 0)).map(([p]) => p);
  const run = await crawlOnce(
    { nas, url: site.seed, pages: 8, timeoutSeconds: 60, payload: { allowPrivateNetworks: ['127.0.0.0/8'] } },
    { connectLog: path.join(tmp.dir, 'connect.jsonl') },
    midRun && (async (_child, exit) => {
      if (await waitUntil(() => served().length > 0, 30_000, exit)) midRun();
    }),
  );
  return { run, pages: new Set(served()) };
}

/** The next healthy run picks up where the state says: it adds pages and fetches none of `done` again.
 * (`>=`: a run that failed part-way may have committed some pages of its own.) */
function continues(next: Measured, previousTotal: number, done: Set<string>): boolean {
  const r = next.run.result;
  const refetched = [...next.pages].filter((p) => done.has(p));
  return !!r && !r.error && r.pagesCrawledThisRun > 0 && r.totalCrawlCount >= previousTotal + r.pagesCrawledThisRun && refetched.length === 0;
}

/** The folder holding the state store (snapshot.<g> / journal.<g>) below the NAS root. */
function stateFiles(nas: string): { dir: string; snapshots: string[]; journals: string[] } {
  // snapshot.<g>, and journal segments journal.<g>.<lease>[.<sealed bytes>] (or journal.<g> of the earlier layout).
  const files = listFiles(nas).filter((f) => /(^|\/)(snapshot\.\d+|journal\.\d+(\.\d+){0,2})$/.test(f));
  const dir = files.length ? path.join(nas, path.dirname(files[0])) : nas;
  const byGeneration = (kind: string) =>
    files.filter((f) => path.basename(f).startsWith(kind + '.')).sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop()));
  return { dir, snapshots: byGeneration('snapshot').map((f) => path.join(nas, f)), journals: byGeneration('journal').map((f) => path.join(nas, f)) };
}

/**
 * Healthy runs until two snapshot generations exist, so an older good one is there to recover from. A torn
 * last journal line (what a kill mid-append leaves) makes the next run compact into a new generation.
 */
async function crawlWithHistory(nas: string): Promise<{ total: number; done: Set<string> }> {
  const done = new Set<string>();
  let total = 0;
  for (let i = 0; i < 6; i++) {
    const m = await crawl(nas);
    for (const p of m.pages) done.add(p);
    total = m.run.result?.totalCrawlCount ?? total;
    const { snapshots, journals } = stateFiles(nas);
    if (snapshots.length >= 2) break;
    // The last run's own journal segment (journal.<g>.<lease>, not yet sealed by a later reader) gets the torn line.
    const open = journals.filter((j) => /journal\.\d+\.\d+$/.test(j)).sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop()));
    if (open[0]) fs.appendFileSync(open[0], 'P\t1\thttp://torn.invalid/');
  }
  return { total, done };
}

function errorText(run: CrawlRun): string {
  return [run.result?.error ?? '', ...(run.result?.errorStack ?? [])].join(' ');
}

/** The run's error for the table, without the temp folder's name. */
function shownError(run: CrawlRun): string {
  return JSON.stringify((run.result?.error ?? 'none').split(tmp.dir).join('…').slice(0, 90));
}

/** Breaks the NAS folder; returns the repair, or why this machine cannot do it. */
type Fault = (nas: string) => (() => void) | string;

function notRun(t: TestContext, promise: string, why: string): void {
  recordFigure({ area: AREA, promise, figure: `not run: ${why}`, holds: true, skipped: true });
  t.skip(why);
}

/**
 * A run whose writes fail (the fault strikes before it starts, or after its first page): a clear error
 * result, nothing saved before lost or rewritten, and the next healthy run continues from the saved state.
 */
async function writeFault(t: TestContext, name: string, nas: string, expected: RegExp, fault: Fault, when: 'before the run' | 'mid-run'): Promise<void> {
  const promise = `${name} ${when}: clear error, state intact, next run continues`;
  fs.mkdirSync(nas, { recursive: true });
  const first = await crawl(nas);
  const before = snapshot(nas);
  let repair: (() => void) | string | undefined = when === 'before the run' ? fault(nas) : undefined;
  let failed: Measured;
  try {
    if (typeof repair === 'string') return notRun(t, promise, repair);
    failed = await crawl(nas, when === 'mid-run' ? () => void (repair = fault(nas)) : undefined);
  } finally {
    if (typeof repair === 'function') repair();
  }
  if (typeof repair === 'string') return notRun(t, promise, repair);
  const changed = lostOrRewritten(nas, before).filter((f) => !/(^|\/)lease\.\d+$/.test(f));
  // FC's next timer tick comes minutes later; here, retry while a lease left by the failed run still blocks.
  const failedAt = Date.now();
  let next = await crawl(nas);
  while (next.run.result?.skipped === 'locked' && Date.now() - failedAt < DEFAULT_LEASE_TTL_MS + 10_000) {
    await sleep(1000);
    next = await crawl(nas);
  }
  const waited = (Date.now() - failedAt) / 1000;
  const clear = !!failed.run.result?.error && expected.test(errorText(failed.run));
  t.diagnostic(`${promise}: failed run: ${describeRun(failed.run)}; next: ${describeRun(next.run)}`);
  assertFigure({
    area: AREA,
    promise,
    figure: `error ${shownError(failed.run)}; ${changed.length} saved files lost or rewritten; next run (${waited.toFixed(0)} s later) +${next.run.result?.pagesCrawledThisRun ?? 0} pages, total ${first.run.result?.totalCrawlCount ?? '?'} -> ${next.run.result?.totalCrawlCount ?? '?'}`,
    holds: clear && changed.length === 0 && continues(next, first.run.result?.totalCrawlCount ?? 0, first.pages),
  });
}

test('a read-only NAS folder (read-only bind mount)', { timeout: 2 * 60_000 }, (t) =>
  writeFault(t, 'read-only folder', path.join(tmp.dir, 'read-only'), /EROFS|read-only/i, mountReadOnly, 'before the run'),
);

/** A filled-up tmpfs: ENOSPC on every write that needs a new block. */
const fillTmpfs: Fault = (dir) => {
  const filler = fillUp(dir);
  return () => fs.rmSync(filler);
};

for (const when of ['before the run', 'mid-run'] as const) {
  test(`a full file system (a small tmpfs, filled up ${when})`, { timeout: 2 * 60_000 }, async (t) => {
    const nas = path.join(tmp.dir, `full-${when.replace(/ /g, '-')}`);
    const unmount = mountTmpfs(nas, 4096);
    if (typeof unmount === 'string') return notRun(t, `full file system ${when}`, unmount);
    try {
      await writeFault(t, 'full file system', nas, /ENOSPC|no space/i, fillTmpfs, when);
    } finally {
      unmount();
    }
  });
}

/** Damages the state the way `damage` says, then checks the next run recovers without starting over. */
async function recovers(t: TestContext, name: string, damage: (files: ReturnType<typeof stateFiles>) => void): Promise<void> {
  const nas = path.join(tmp.dir, name);
  const history = await crawlWithHistory(nas);
  damage(stateFiles(nas));
  const next = await crawl(nas);
  const detected = /damaged|torn|corrupt|skipped/i.test(next.run.stderr);
  t.diagnostic(`${name}: ${describeRun(next.run)}`);
  assertFigure({
    area: AREA,
    promise: `${name}: detected, recovered, no restart from scratch`,
    figure: `${history.done.size} pages before; next run +${next.run.result?.pagesCrawledThisRun ?? 0}, ${[...next.pages].filter((p) => history.done.has(p)).length} refetched, total ${history.total} -> ${next.run.result?.totalCrawlCount ?? '?'}, ${detected ? 'logged' : 'not logged'}`,
    holds: detected && continues(next, history.total, history.done),
  });
}

test('a truncated newest snapshot', { timeout: 2 * 60_000 }, (t) =>
  recovers(t, 'truncated snapshot', ({ snapshots }) => fs.truncateSync(snapshots[0], Math.floor(fs.statSync(snapshots[0]).size / 2))),
);

test('a corrupted newest snapshot (bytes overwritten, same length)', { timeout: 2 * 60_000 }, (t) =>
  recovers(t, 'corrupted snapshot', ({ snapshots }) => {
    const data = fs.readFileSync(snapshots[0]);
    data.fill(0x5a, Math.floor(data.length / 3), Math.floor(data.length / 3) + 64);
    fs.writeFileSync(snapshots[0], data);
  }),
);

test('a journal damaged mid-file and cut mid-line', { timeout: 2 * 60_000 }, async (t) => {
  const nas = path.join(tmp.dir, 'damaged journal');
  const history = await crawlWithHistory(nas);
  // A segment of the newest generation: the one the next load reads (older ones are kept only for recovery).
  const generation = (j: string) => Number(path.basename(j).split('.')[1]);
  const journals = stateFiles(nas).journals.filter((j) => fs.statSync(j).size > 200);
  const newest = Math.max(...journals.map(generation));
  const [journal] = journals.filter((j) => generation(j) === newest);
  const data = fs.readFileSync(journal);
  data.fill(0x5a, data.length >> 1, (data.length >> 1) + 40);
  fs.writeFileSync(journal, data.subarray(0, data.length - 3));
  const next = await crawl(nas);
  const r = next.run.result;
  const refetched = [...next.pages].filter((p) => history.done.has(p)).length;
  const detected = /damaged|torn|corrupt|skipped/i.test(next.run.stderr);
  t.diagnostic(`damaged journal ${journal}: ${describeRun(next.run)}`);
  // The damaged lines' work (at most the few pages they named) is redone; everything else is kept.
  assertFigure({
    area: AREA,
    promise: 'journal damaged mid-file and cut mid-line: detected, bad lines dropped, crawl continues',
    figure: `${history.done.size} pages before; next run +${r?.pagesCrawledThisRun ?? 0}, ${refetched} refetched, total ${history.total} -> ${r?.totalCrawlCount ?? '?'}, ${detected ? 'logged' : 'not logged'}`,
    holds: !!r && !r.error && detected && r.pagesCrawledThisRun > 0 && refetched <= 3 && r.totalCrawlCount >= history.total - 3 + r.pagesCrawledThisRun - refetched,
  });
});

test('every snapshot damaged: a clear error, never a silent restart', { timeout: 2 * 60_000 }, async (t) => {
  const nas = path.join(tmp.dir, 'all snapshots damaged');
  await crawlWithHistory(nas);
  const { snapshots } = stateFiles(nas);
  for (const s of snapshots) fs.writeFileSync(s, 'garbage\n');
  const before = snapshot(nas);
  const next = await crawl(nas);
  const changed = lostOrRewritten(nas, before).filter((f) => !/(^|\/)lease\.\d+$/.test(f));
  t.diagnostic(`all snapshots damaged: ${describeRun(next.run)}`);
  assertFigure({
    area: AREA,
    promise: 'all snapshots damaged: clear error, nothing overwritten, no restart',
    figure: `error ${shownError(next.run)}; ${next.pages.size} pages fetched; ${changed.length} state files changed`,
    holds: !!next.run.result?.error && next.pages.size === 0 && changed.length === 0,
  });
});
