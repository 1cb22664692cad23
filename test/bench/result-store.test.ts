import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSmoke, tableRows } from './smoke';

test('bench:result-store measures cold, NAS store, memory cache and the baseline on the small bench images', async () => {
  const run = await runSmoke('bench/result-store.ts', 'result-store');
  assert.equal(run.code, 0, run.stderrTail);
  const rows = tableRows(run.stdout, 'image');
  assert.equal(rows.length, 2, run.stdout + run.stderrTail);
  for (const row of rows) for (const ms of [row[2], row[3], row[4], row[5]]) assert.ok(Number(ms) > 0, row.join(' | '));
  assert.ok(run.written.includes('| image |'), 'the table was not written to the results file');
});
