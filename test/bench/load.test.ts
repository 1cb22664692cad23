import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSmoke, tableRows } from './smoke';

test('bench:load runs autocannon at concurrency 1, 4 and 8 and prints its table', async () => {
  const run = await runSmoke('bench/load.ts', 'load');
  assert.equal(run.code, 0, run.stderrTail);
  const rows = tableRows(run.stdout, 'concurrency');
  assert.deepEqual(rows.map((r) => r[0]), ['1', '4', '8'], run.stdout + run.stderrTail);
  for (const row of rows) {
    assert.ok(Number(row[2]) > 0, `no requests completed at concurrency ${row[0]}`);
    assert.equal(row[6], '0', `connection errors at concurrency ${row[0]}`);
    assert.ok(Number(row[9]) > 0, 'server RSS was not read');
  }
  // Sequential requests prove every request of the mix is valid; failures under concurrency are the bench's findings.
  assert.equal(rows[0][7], '0', `non-2xx answers at concurrency 1: ${rows[0][7]}`);
  assert.ok(run.written.includes('| concurrency |'), 'the table was not written to the results file');
  assert.match(run.stdout, /OpenCV \d+\.\d+/, 'machine header missing');
});
