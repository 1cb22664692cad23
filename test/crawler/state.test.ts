import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CrawlState } from '../../src/crawler/state';
import { decodeSnapshot, encodeSnapshot } from '../../src/nas/state-store';

const hash = 'a'.repeat(64);
const load = (journal: string[]) =>
  CrawlState.fromStore({ generation: 1, snapshot: null, journal, journalBytes: 0, snapshotBytes: 0, warnings: [] });

describe('crawl state journal', () => {
  test('replays the lines it wrote', () => {
    const state = load(['P\t0\thttp://127.0.0.1:1/', 'V\thttp://127.0.0.1:1/', 'P\t1\thttp://127.0.0.1:1/a', `I\timg/${hash}.png\t2048`, 'G\thttp://127.0.0.1:1/x.png']);
    assert.equal(state.skippedLines, 0);
    assert.equal(state.totalCrawlCount, 1);
    assert.equal(state.frontier.size, 1);
    assert.equal(state.totalImageSize, 2048);
    assert.ok(state.imageUrls.has('http://127.0.0.1:1/x.png'));
  });

  test('skips well-shaped lines whose content is damaged, so no later run trips over them', () => {
    const state = load([
      'P\t0\thttp://127.0.0.1:1/',
      'P\t1\thttp://[damaged/',
      'P\t1\tht\u0000p://127.0.0.1:1/b',
      'V\tnot a url',
      'F\t\u0001ttp://127.0.0.1:1/c\tHTTP 404',
      'G\t/relative.png',
      `I\timg/${hash}.png\tlots`,
      'I\t../outside.png\t10',
    ]);
    assert.equal(state.skippedLines, 7);
    assert.deepEqual(state.frontier.take('dfs')?.url, 'http://127.0.0.1:1/');
    assert.equal(state.frontier.take('dfs'), undefined);
    assert.equal(state.totalCrawlCount, 0);
    assert.equal(state.totalImageDownloaded, 0);
  });

  test('the sitemaps-read mark survives replay and compaction; a damaged one is skipped', () => {
    const replayed = load(['M\thttp://127.0.0.1:1', 'M\tnot an origin', 'M\thttp://127.0.0.1:2\t1700000000', 'M\thttp://127.0.0.1:3\tsoon']);
    assert.equal(replayed.skippedLines, 2);
    // A mark without a time (written before revisits) counts as read long ago.
    assert.deepEqual([...replayed.sitemapsRead], [['http://127.0.0.1:1', 0], ['http://127.0.0.1:2', 1700000000]]);
    const snapshot = decodeSnapshot(encodeSnapshot(2, replayed.toSnapshot()));
    const compacted = CrawlState.fromStore({ generation: 2, snapshot, journal: [], journalBytes: 0, snapshotBytes: 0, warnings: [] });
    assert.deepEqual([...compacted.sitemapsRead], [['http://127.0.0.1:1', 0], ['http://127.0.0.1:2', 1700000000]]);
  });
});

describe('the page a link was found on', () => {
  const o = 'http://127.0.0.1:1';
  const compact = (state: CrawlState, drop?: string) => {
    const snapshot = decodeSnapshot(encodeSnapshot(2, state.toSnapshot()));
    if (drop) delete snapshot.sections[drop];
    return CrawlState.fromStore({ generation: 2, snapshot, journal: [], journalBytes: 0, snapshotBytes: 0, warnings: [] });
  };
  const fromOf = (state: CrawlState) => state.frontier.entries().map((item) => [item.url, item.from]);

  test('survives replay and compaction; the latest page to push a link names it (dfs); seeds have none', () => {
    const lines = [`P\t0\t${o}/`, `V\t${o}/`];
    const state = load(lines);
    lines.push(state.pushLinks(`${o}/gallery/index.html`, 1, [`${o}/gallery/full-1.jpg`, `${o}/other/full-2.jpg`, `${o}/b.html`], 'dfs')!);
    lines.push(state.pushLinks(`${o}/b.html`, 2, [`${o}/gallery/full-1.jpg`], 'dfs')!);
    lines.push(state.push(`${o}/seed-2`, 0, 'dfs')!);
    const expected = [
      [`${o}/other/full-2.jpg`, `${o}/gallery/index.html`],
      [`${o}/b.html`, `${o}/gallery/index.html`],
      [`${o}/gallery/full-1.jpg`, `${o}/b.html`],
      [`${o}/seed-2`, undefined],
    ];
    assert.deepEqual(fromOf(state), expected);
    assert.deepEqual(fromOf(load(lines)), expected);
    const compacted = compact(state);
    assert.deepEqual(fromOf(compacted), expected);
    // Taken and put back (a run that ended first), it keeps its page.
    compacted.take('dfs');
    compacted.putBackUnfinished();
    assert.deepEqual(fromOf(compacted), expected);
  });

  test('a snapshot without the section (an older crawler wrote it) or with a damaged one loads without it', () => {
    const state = load([`P\t0\t${o}/`]);
    state.pushLinks(`${o}/`, 1, [`${o}/a.jpg`, `${o}/b.jpg`], 'dfs');
    assert.deepEqual(fromOf(compact(state, 'frontierFrom')).map(([, from]) => from), [undefined, undefined, undefined]);
    const snapshot = decodeSnapshot(encodeSnapshot(2, state.toSnapshot()));
    snapshot.sections.frontierFrom = Buffer.from('a.jpg\n');
    const damaged = CrawlState.fromStore({ generation: 2, snapshot, journal: [], journalBytes: 0, snapshotBytes: 0, warnings: [] });
    assert.deepEqual(damaged.frontier.entries().map((item) => item.from), [undefined, undefined, undefined]);
  });
});

describe('crawl state replay', () => {
  const comparable = (state: CrawlState) => {
    state.putBackUnfinished();
    const { sections, meta } = state.toSnapshot();
    return { meta: { ...meta, savedAt: null }, sections: Object.fromEntries(Object.entries(sections).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : v])) };
  };

  test('a replay of the lines gives exactly the state that wrote them: takes, link batches, retries, unfinished pages, runs', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    const url = (i: number) => `http://127.0.0.1:1/dir/page${i}?q=${i % 3}`;
    const state = new CrawlState();
    const lines: string[] = [state.push(url(0), 0, 'dfs')!];
    let inFlight: string[] = [];
    for (let step = 0; step < 3000; step++) {
      const op = random(20);
      if (op === 0) {
        lines.push(state.runStarted());
        inFlight = [];
      } else if (op <= 3) {
        const taken = state.take('dfs');
        if (taken) lines.push(taken.line);
        if (taken) inFlight.push(taken.item.url);
      } else {
        const page = url(random(200));
        const links = Array.from({ length: random(8) }, () => url(random(200)));
        const line = state.pushLinks(page, 1 + random(4), links, 'dfs');
        if (line) lines.push(line);
        const done = inFlight.splice(random(inFlight.length + 1), 1)[0];
        if (done) {
          const end = random(4);
          if (end === 0) lines.push(state.visited(done, 2 + random(3)));
          else if (end === 1) lines.push(state.pageWaits(done, 1, 1000 + step, 'HTTP 503'));
          else if (end === 2) lines.push(state.failedPage(done, 'HTTP 404'));
          else lines.push(state.progressed(done));
        }
      }
    }
    const replayed = load(lines);
    assert.equal(replayed.skippedLines, 0);
    assert.deepEqual(comparable(replayed), comparable(state));
    assert.ok(state.frontier.size > 10 && state.waitingPages.size > 5 && state.history.size > 10, `the walk reached every kind of state: ${state.frontier.size} ${state.waitingPages.size} ${state.history.size}`);
    assert.ok(lines.some((l) => /^A\t.*\t1$/.test(l)), 'the walk took suspects alone');
  });

  test('an attempt that did not finish counts only when the page was alone; a request never made does not count', () => {
    const [a, b] = ['http://127.0.0.1:1/a', 'http://127.0.0.1:1/b'];
    const state = new CrawlState();
    const lines = [state.push(b, 0, 'dfs')!, state.push(a, 0, 'dfs')!];
    // Run 1 dies with both pages in flight: neither is charged, both become suspects.
    lines.push(state.take('dfs')!.line, state.take('dfs')!.line);
    assert.deepEqual([state.attemptsAt(a), state.attemptsAt(b)], [1, 1]);
    lines.push(state.runStarted());
    assert.deepEqual([state.attemptsAt(a), state.attemptsAt(b)], [0, 0]);
    assert.deepEqual([...state.suspects].sort(), [a, b]);
    // Run 2 takes the suspect alone (the line says so) and dies: that attempt counts, and it stays a suspect.
    const alone = state.take('dfs')!;
    assert.equal(alone.line, `A\t${alone.item.url}\t1`);
    lines.push(alone.line, state.runStarted());
    assert.equal(state.attemptsAt(alone.item.url), 1);
    assert.ok(state.suspects.has(alone.item.url));
    // Back on top, it is taken again; an outcome clears the suspicion, and a request never made gives its attempt back.
    const again = state.take('dfs')!;
    assert.equal(again.item.url, alone.item.url);
    lines.push(again.line, state.pageWaits(again.item.url, 0, 5000, 'host paused'), state.notAttempted(again.item.url));
    assert.equal(state.attemptsAt(again.item.url), 1);
    assert.ok(!state.suspects.has(again.item.url));
    const replayed = load(lines);
    assert.equal(replayed.skippedLines, 0);
    assert.deepEqual(comparable(replayed), comparable(state));
    const snapshot = decodeSnapshot(encodeSnapshot(2, state.toSnapshot()));
    const compacted = CrawlState.fromStore({ generation: 2, snapshot, journal: [], journalBytes: 0, snapshotBytes: 0, warnings: [] });
    assert.deepEqual([...compacted.suspects], [a, b].filter((u) => u !== alone.item.url));
    assert.equal(compacted.attemptsAt(alone.item.url), 1);
  });

  test('links are written relative to their page and read back exactly', () => {
    const state = new CrawlState();
    const page = `http://127.0.0.1:1/${'p'.repeat(1500)}?x=1`;
    const links = [`http://127.0.0.1:1/${'p'.repeat(1500)}?x=2`, 'http://127.0.0.1:1/other', 'http://127.0.0.1:1/a:b', 'https://elsewhere.example/x'];
    const line = state.pushLinks(page, 1, links, 'dfs')!;
    assert.ok(line.length < page.length + 200, `one short line: ${line.length} bytes`);
    assert.deepEqual(load([line]).frontier.entries().map((e) => e.url), links);
  });
});
