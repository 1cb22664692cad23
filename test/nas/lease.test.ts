import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createLogger } from '../../src/log';
import { acquireLease, claimLease } from '../../src/nas/lease';

const logger = createLogger({}, () => undefined);
let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lease-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A child process that takes the lease, says so, and then waits to be killed. */
function childHolder(ttlMs: number): Promise<{ pid: number; kill: () => void }> {
  const code = `
    const { acquireLease } = require(${JSON.stringify(path.resolve(__dirname, '../../src/nas/lease.ts'))});
    const { createLogger } = require(${JSON.stringify(path.resolve(__dirname, '../../src/log.ts'))});
    acquireLease(${JSON.stringify(dir)}, { requestId: 'child', logger: createLogger({}, () => {}), ttlMs: ${ttlMs} })
      .then((lease) => { process.stdout.write(lease ? 'held\\n' : 'busy\\n'); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => (d.toString().startsWith('held') ? resolve({ pid: child.pid!, kill: () => child.kill('SIGKILL') }) : reject(new Error(d.toString()))));
    child.once('error', reject);
  });
}

describe('lease', () => {
  test('a second taker is refused while the first holds it, and succeeds after release', async () => {
    const first = await acquireLease(dir, { requestId: 'a', logger });
    assert.ok(first);
    assert.equal(await acquireLease(dir, { requestId: 'b', logger }), null);
    await first.release();
    const second = await acquireLease(dir, { requestId: 'b', logger });
    assert.ok(second);
    await second.release();
  });

  test('a taker with a stale view cannot claim a number below the current holder', async () => {
    // B saw no lease and stalled; meanwhile A took lease.1 and released it, and C took lease.2 and deleted lease.1.
    const a = await acquireLease(dir, { requestId: 'a', logger });
    assert.ok(a);
    await a.release();
    const c = await acquireLease(dir, { requestId: 'c', logger });
    assert.ok(c);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['lease.2']);
    // B wakes up and creates lease.1, which O_EXCL allows because it is gone.
    assert.equal(await claimLease(dir, 1, { requestId: 'b', logger }), null);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['lease.2'], 'the stale claim leaves nothing behind');
    assert.equal(c.lost, false);
    await c.release();
  });

  test('of many simultaneous takers exactly one wins', async () => {
    const leases = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireLease(dir, { requestId: `r${i}`, logger })));
    assert.equal(leases.filter(Boolean).length, 1);
    await Promise.all(leases.map((l) => l?.release()));
  });

  test('an expired lease is taken over, and its old holder learns that it lost it', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const first = await acquireLease(dir, { requestId: 'a', logger, ttlMs: 1000, heartbeatMs: 60_000, now });
    assert.ok(first);
    clock += 500;
    assert.equal(await acquireLease(dir, { requestId: 'b', logger, ttlMs: 1000, now }), null);
    clock += 1000; // past the expiry, with no heartbeat in between
    // Same process, but the first lease is still registered as held here, so only the expiry frees it.
    const second = await acquireLease(dir, { requestId: 'b', logger, ttlMs: 1000, heartbeatMs: 20, now });
    assert.ok(second);
    const probe = await acquireLease(dir, { requestId: 'c', logger, ttlMs: 1000, heartbeatMs: 20, now });
    assert.equal(probe, null);
    await first.release();
    assert.equal(first.lost, false); // not noticed without a heartbeat, but the release must not clobber the new holder
    assert.equal(await acquireLease(dir, { requestId: 'd', logger, ttlMs: 1000, now }), null);
    await second.release();
  });

  test('a holder whose lease was taken over learns it from its heartbeat', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const slow = await acquireLease(dir, { requestId: 'slow', logger, ttlMs: 1000, heartbeatMs: 200, now });
    assert.ok(slow);
    clock += 5000; // the holder stalled past its expiry
    const next = await acquireLease(dir, { requestId: 'next', logger, ttlMs: 1000, heartbeatMs: 200, now });
    assert.ok(next);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(slow.lost, true);
    assert.equal(next.lost, false);
    await slow.release();
    assert.equal(await acquireLease(dir, { requestId: 'probe', logger, ttlMs: 1000, now }), null, 'the old holder did not release the new lease');
    await next.release();
  });

  test('the heartbeat keeps a live lease from expiring', async () => {
    const first = await acquireLease(dir, { requestId: 'a', logger, ttlMs: 300, heartbeatMs: 50 });
    assert.ok(first);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(await acquireLease(dir, { requestId: 'b', logger, ttlMs: 300 }), null);
    assert.equal(first.lost, false);
    await first.release();
  });

  test('a SIGKILLed holder on this host frees the lease at once (dead PID), long before its expiry', async () => {
    const holder = await childHolder(60_000);
    assert.equal(await acquireLease(dir, { requestId: 'b', logger }), null);
    holder.kill();
    let lease = null;
    const started = Date.now();
    while (!lease && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 50));
      lease = await acquireLease(dir, { requestId: 'b', logger });
    }
    assert.ok(lease, 'the lease of a dead process was not taken over');
    assert.ok(Date.now() - started < 5000);
    await lease.release();
  });
});
