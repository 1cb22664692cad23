import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSmoke, tableRows } from './smoke';

test('bench:crawl crawls a small generated site and a real Debian documentation site with wget and with fc-nas-images and prints the comparisons', async () => {
  const run = await runSmoke('bench/crawl.ts', 'crawl');
  assert.equal(run.code, 0, run.stderrTail);
  const rows = tableRows(run.stdout, 'crawler');
  assert.equal(rows.length, 3, run.stdout + run.stderrTail);
  const [wget, ours] = rows;
  assert.equal(wget[3], '40', 'wget should fetch every page of the smoke site');
  assert.equal(wget[4], '16', 'wget should fetch every image of the smoke site');
  assert.ok(Number(ours[1]) >= 2, 'the smoke crawl takes several runs');
  assert.equal(ours[3], '40', 'our crawler should visit every page of the smoke site');
  assert.match(run.stdout, /pages\/s ratio, ours \(process wall time\) \/ wget, from the medians of \d+ alternating rounds: [\d.]+×/);
  assert.match(run.stdout, /Per-run state-write overhead: median \d+ ms/);
  const real = run.stdout.slice(run.stdout.indexOf('#### Debian Reference'));
  const [realWget, realOurs] = tableRows(real, 'crawler');
  assert.ok(Number(realWget?.[2]) > 10 && Number(realOurs?.[2]) > 10, `both should crawl the Debian Reference's pages: ${real}`);
  assert.match(real, /pages\/s, ours \(NAS on disk\) \/ wget: \*\*[\d.]+×\*\* .*goal ≥ 1×: \*\*(MET|MISSED)\*\*/);
  assert.match(real, /peak RSS of ours, worst of \d+ runs: \*\*\d+ MB\*\*, goal ≤ 200 MB: \*\*(MET|MISSED)\*\*/);
  assert.match(real, /images found, ours \/ wget: \d+ \/ \d+/);
  // Debian's nginx, installed or unpacked by the bench, so that no machine benches against a slower server.
  assert.match(real, /Served by nginx\/[\d.]+ /);
  assert.match(run.stdout, /Targets: .*with revisit records: cold load < 1 s: (met|MISSED) \(worst \d+ ms\); peak RSS < 512 MB: (met|MISSED)/, 'resume cost missing');
  assert.ok(run.written.includes('| crawler |'), 'the table was not written to the results file');
});
