import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSmoke, tableRows } from './smoke';

test('bench:revisits runs a revisit cycle on both server flavours and prints the interval histogram', async () => {
  const run = await runSmoke('bench/revisits.ts', 'revisits');
  assert.equal(run.code, 0, run.stderrTail);
  const rows = tableRows(run.written, 'server');
  assert.equal(rows.length, 2, run.stdout + run.stderrTail);
  for (const row of rows) assert.match(row[7], /\(100%\)$/, 'every new image found');
  assert.ok(Number(rows[0][3]) > 0 && Number(rows[1][3]) === 0, '304s only where the server sends validators');
  const histogram = tableRows(run.written, 'revisit interval');
  assert.equal(histogram.length, 2);
  assert.ok(Number(histogram[0][1]) > 0, 'the changing pages reach minInterval');
});

test('bench:state-load loads a state with and without revisit records in a fresh process', async () => {
  const run = await runSmoke('bench/state-load.ts', 'state-load');
  assert.equal(run.code, 0, run.stderrTail);
  const rows = tableRows(run.written, 'state');
  assert.equal(rows.length, 2, run.stdout + run.stderrTail);
  assert.match(rows[1][0], /with revisit records/);
  assert.match(rows[1][5], /ms \(100 of the due pages taken\)/);
});
