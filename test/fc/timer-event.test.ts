import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseTimerEvent } from '../../src/fc/timer-event';

const sample = fs.readFileSync(path.join(__dirname, '../fixtures/fc-events/timer-trigger-event.json'));

test('parses the reference timer event and its JSON-in-a-string payload', () => {
  const r = parseTimerEvent(sample);
  assert.ok(r.ok, !r.ok ? r.error : '');
  assert.equal(r.value.triggerName, 'crawl-every-5-minutes');
  assert.deepEqual(r.value.payload, { url: 'https://example.com/', rootDir: '/mnt/crawler', numberOfPages: 50, cutoffSize: 10, debug: false });
});

test('bad timer events give clear errors', () => {
  const cases: Array<[unknown, RegExp]> = [
    [Buffer.from('nope'), /not valid JSON/],
    [{ triggerName: 'x' }, /payload/],
    [{ payload: { url: 'x' } }, /payload/],
    [{ payload: '{"url":' }, /payload is not valid JSON/],
    [{ payload: '  ' }, /payload is empty/],
  ];
  for (const [event, message] of cases) {
    const r = parseTimerEvent(event);
    assert.equal(r.ok, false, JSON.stringify(event));
    if (!r.ok) assert.match(r.error, message);
  }
});
