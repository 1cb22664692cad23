import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSmoke, tableRows } from './smoke';

test('bench:image measures ours, the Python baseline and the raw pipeline on every action and prints the tables', async () => {
  const run = await runSmoke('bench/image.ts', 'image');
  assert.equal(run.code, 0, run.stderrTail);
  const rows = tableRows(run.stdout, 'image');
  assert.equal(rows.length, 8, run.stdout + run.stderrTail);
  assert.deepEqual([...new Set(rows.map((r) => r[1]))], ['show', 'rotate 90', 'rotate 33', 'facedetect']);
  for (const row of rows) {
    assert.equal(row[2], '1', `cell failed: ${row.join(' | ')}`);
    for (const ms of [row[3], row[5], row[7]]) assert.ok(Number(ms) > 0, `no timing in ${row.join(' | ')}`);
    assert.match(row[9], /^\*\*[\d.]+×\*\*$/);
  }
  const faces = tableRows(run.stdout, 'side');
  assert.equal(faces.length, 2);
  assert.ok(Number(faces[0][1]) >= 1, 'ours finds the astronaut');
  assert.ok(Number(faces[1][1]) >= 1, 'the baseline finds the astronaut');
  assert.ok(run.written.includes('| image |'), 'the table was not written to the results file');
});
