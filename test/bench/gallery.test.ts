import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSmoke, tableRows } from './smoke';

test('bench:gallery times the first and a deep gallery page through the manifest index and counts fs calls', async () => {
  const run = await runSmoke('bench/gallery.ts', 'gallery');
  assert.equal(run.code, 0, run.stderrTail);
  const rows = tableRows(run.stdout, 'images');
  assert.equal(rows.length, 4, run.stdout + run.stderrTail);
  for (const row of rows) assert.ok(Number(row[2]) > 0 && Number(row[4]) > 0, row.join(' | '));
  assert.match(run.stdout, /File-system calls per page the same at 2,000 and 20,000 images: met/);
});
