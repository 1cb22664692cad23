import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startScheduler } from '../../src/local/scheduler';
import { parseInterval } from '../../src/util/duration';

test('never runs two invocations at once, and skips ticks that land during a run', async () => {
  let running = 0;
  let maxRunning = 0;
  const results: number[] = [];
  let skipped = 0;
  const scheduler = startScheduler({
    intervalMs: 40,
    invoke: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(130);
      running--;
      return results.length;
    },
    onResult: (_r, run) => results.push(run),
    onError: (e) => assert.fail(String(e)),
    onSkippedTick: () => skipped++,
  });
  await sleep(600);
  await scheduler.stop();
  assert.equal(maxRunning, 1);
  assert.ok(results.length >= 3, `runs: ${results.length}`);
  assert.ok(skipped >= 3, `skipped ticks: ${skipped}`);
  assert.deepEqual(results, results.map((_, i) => i + 1));
});

test('an invocation that throws is reported and the next tick still runs', async () => {
  const errors: number[] = [];
  const ok: number[] = [];
  const scheduler = startScheduler({
    intervalMs: 30,
    invoke: async () => {
      if (errors.length === 0) throw new Error('boom');
      return 1;
    },
    onResult: (_r, run) => ok.push(run),
    onError: (_e, run) => errors.push(run),
    onSkippedTick: () => {},
  });
  await sleep(120);
  await scheduler.stop();
  assert.deepEqual(errors, [1]);
  assert.ok(ok.length >= 1);
});

test('intervals: 30s, 5m and FC cron @every 5m', () => {
  assert.deepEqual(parseInterval('30s'), { ok: true, value: 30_000 });
  assert.deepEqual(parseInterval('@every 5m'), { ok: true, value: 300_000 });
  assert.deepEqual(parseInterval('1h'), { ok: true, value: 3_600_000 });
  for (const bad of ['', '5', 'fast', '10ms', '-5s']) assert.equal(parseInterval(bad).ok, false, bad);
});
