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
    const replayed = load(['S\thttp://127.0.0.1:1', 'S\tnot an origin']);
    assert.equal(replayed.skippedLines, 1);
    assert.deepEqual([...replayed.sitemapsRead], ['http://127.0.0.1:1']);
    const snapshot = decodeSnapshot(encodeSnapshot(2, replayed.toSnapshot()));
    const compacted = CrawlState.fromStore({ generation: 2, snapshot, journal: [], journalBytes: 0, snapshotBytes: 0, warnings: [] });
    assert.deepEqual([...compacted.sitemapsRead], ['http://127.0.0.1:1']);
  });
});
