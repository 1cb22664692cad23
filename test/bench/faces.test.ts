import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSmoke, tableRows } from './smoke';

test('bench:faces scores every detector on the labelled set and prints its table', async () => {
  const run = await runSmoke('bench/faces.ts', 'faces');
  assert.equal(run.code, 0, run.stderrTail);
  const rows = tableRows(run.stdout, 'detector');
  assert.equal(rows.length, 7, run.stdout + run.stderrTail);
  assert.match(rows[0][0], /original/);
  assert.match(rows[5][0], /this pipeline.* as deployed \(s\.yaml: 2 vCPUs\)/);
  assert.match(rows[6][0], /this pipeline.* 1 OpenCV thread/);
  assert.match(run.stdout, /Load average \(1 min\) at the start and the end: \d/);
  assert.match(run.stdout, /≤ 40 ms per 0\.25 MP as deployed: .* by the clock on 2 OpenCV threads.* ms on 1 thread \(a 1-vCPU deployment: /);
  for (const row of rows) {
    assert.match(row[1], /^\d+\/\d+ \(\d+%\)$/, row.join(' | '));
    assert.ok(Number(row[6]) > 0, `no time measured for ${row[0]}`);
  }
  assert.ok(run.written.includes('| detector |'), 'the table was not written to the results file');
});
