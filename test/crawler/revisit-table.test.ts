import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RevisitTable, type PageRecord } from '../../src/crawler/revisits';
import { UrlSet } from '../../src/crawler/url-set';
import { firstInterval, nextInterval, pageHash } from '../../src/crawler/revisit-policy';

const record = (due: number, extra: Partial<PageRecord> = {}): PageRecord => ({ due, interval: 3600, visited: Math.max(0, due - 3600), hash: 'a'.repeat(16), lastModified: 0, etag: '', images: [], ...extra });
const url = (i: number) => `https://a.example/p/${String(i).padStart(3, '0')}.html`;

/** A table as a load would give it: its sections written by toSections over a compacted history. */
function reloaded(table: RevisitTable, history: UrlSet): { table: RevisitTable; history: UrlSet } {
  const sections = table.toSections();
  const base = new UrlSet(history.bytes());
  return { table: new RevisitTable(base, sections), history: base };
}

describe('revisit records', () => {
  test('due pages come earliest first, from records in the snapshot and since it alike; not-due and unscheduled ones never', () => {
    const history = new UrlSet();
    const table = new RevisitTable(history);
    const dues = [500, 100, 0, 300, 900, 200];
    dues.forEach((due, i) => {
      history.add(url(i));
      table.set(url(i), record(due));
    });
    const loaded = reloaded(table, history);
    // Records after the snapshot: one new page, one page rescheduled.
    loaded.history.add(url(6));
    loaded.table.set(url(6), record(150));
    loaded.table.set(url(4), record(50));
    const { pages, nextDue } = loaded.table.due(400, 10, () => false);
    assert.deepEqual(pages.map((p) => p.url), [url(4), url(1), url(6), url(5), url(3)]);
    assert.equal(nextDue, 50);
    assert.deepEqual(loaded.table.due(400, 2, () => false).pages.map((p) => p.url), [url(4), url(1)]);
    assert.deepEqual(loaded.table.due(400, 10, (u) => u === url(1)).pages.map((p) => p.url), [url(4), url(6), url(5), url(3)]);
  });

  test('every field survives compaction, twice; a section that does not fit the history is not used', () => {
    const history = new UrlSet();
    const table = new RevisitTable(history);
    const full = record(1234, { interval: 99, visited: 1000, hash: pageHash(['x'], ['y']), lastModified: 1700000000, etag: 'W/"abc def"', images: ['https://a.example/i/1.png', 'https://b.example/2.png'] });
    for (let i = 0; i < 5; i++) history.add(url(i));
    table.set(url(3), full);
    table.set(url(1), record(7, { hash: '' }));
    const once = reloaded(table, history);
    const twice = reloaded(once.table, once.history);
    assert.deepEqual(twice.table.get(url(3)), full);
    assert.deepEqual(twice.table.get(url(1)), record(7, { hash: '' }));
    assert.equal(twice.table.get(url(0)), undefined, 'a history line without a record');
    assert.ok(twice.table.showsImage('https://b.example/2.png'));
    assert.ok(!twice.table.showsImage('https://b.example/2.pn'));
    // A newer record that drops the image: no page shows it any more.
    twice.table.set(url(3), { ...full, images: ['https://a.example/i/1.png'] });
    assert.ok(!twice.table.showsImage('https://b.example/2.png'));
    const sections = once.table.toSections();
    const damaged = new RevisitTable(once.history, { ...sections, revisitTimes: sections.revisitTimes.subarray(1) });
    assert.equal(damaged.loaded, false);
    assert.equal(damaged.get(url(3)), undefined);
    // No record at all (refresh off): empty sections, which are no damage.
    const none = new RevisitTable(once.history).toSections();
    assert.equal(none.revisitTimes.length + none.revisitTags.length, 0);
    assert.equal(new RevisitTable(once.history, none).loaded, true);
  });

  test('pages without a record are counted, in the snapshot and since it', () => {
    const history = new UrlSet();
    const table = new RevisitTable(history);
    for (let i = 0; i < 5; i++) history.add(url(i));
    table.set(url(1), record(10));
    table.set(url(3), record(10));
    assert.equal(table.unrecorded(), 3);
    const loaded = reloaded(table, history);
    assert.equal(loaded.table.unrecorded(), 3);
    loaded.history.add(url(7));
    assert.equal(loaded.table.unrecorded(), 4, 'a page visited since, without a record');
    loaded.table.set(url(7), record(10));
    loaded.table.set(url(0), record(10));
    loaded.table.set(url(1), record(20));
    assert.equal(loaded.table.unrecorded(), 2, 'records made since, for new and old pages; a replaced one counts once');
    // A snapshot written before revisits existed: no record at all.
    assert.equal(new RevisitTable(loaded.history).unrecorded(), 6);
  });

  test('intervals: the first halfway between the bounds on a log scale; ×0.5 on change, ×1.5 without, clamped', () => {
    const policy = { minIntervalS: 3600, maxIntervalS: 16 * 3600, share: 0.2, images: false };
    assert.equal(firstInterval(policy), 4 * 3600);
    assert.equal(nextInterval(policy, 4 * 3600, true), 2 * 3600);
    assert.equal(nextInterval(policy, 4 * 3600, false), 6 * 3600);
    assert.equal(nextInterval(policy, 3600, true), 3600);
    assert.equal(nextInterval(policy, 12 * 3600, false), 16 * 3600);
    assert.equal(pageHash(['b', 'a', 'a'], ['i']), pageHash(['a', 'b'], ['i']), 'order and repeats do not matter');
    assert.notEqual(pageHash(['a'], ['i']), pageHash(['i'], ['a']), 'a link is not an image');
  });
});
