/**
 * A lease contender for the clock-skew test, run as its own process (under its own PID namespace, so its peer
 * sees it as another host). For `RUN_MS` it takes the lease whenever it can, then appends its lease number to the
 * shared LOG while `lost` is false, sometimes freezing its event loop for longer than the TTL (as a stalled FC
 * instance would) and sometimes vanishing without a release. A correct lease keeps the numbers in LOG in order.
 */
import { appendFileSync } from 'node:fs';
import { createLogger } from '../../src/log';
import { acquireLease } from '../../src/nas/lease';

const [dir, log, ttl, runMs] = [process.env.LEASE_DIR!, process.env.LOG!, Number(process.env.TTL_MS), Number(process.env.RUN_MS)];
const logger = createLogger({}, () => undefined);
// Not the PID: in its own PID namespace every contender is PID 1.
const me = Math.floor(Math.random() * 1e9);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freeze = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

async function main(): Promise<void> {
  const ends = performance.now() + runMs;
  let held = 0;
  while (performance.now() < ends) {
    const lease = await acquireLease(dir, { requestId: `${process.pid}`, logger, ttlMs: ttl });
    if (!lease) {
      await sleep(Math.random() * ttl / 4);
      continue;
    }
    held++;
    const writes = 5 + Math.floor(Math.random() * 20);
    for (let i = 0; i < writes && !lease.lost; i++) {
      appendFileSync(log, `${lease.number} ${me} ${Date.now()}\n`);
      if (Math.random() < 0.03) freeze(ttl * (1.2 + Math.random()));
      else await sleep(ttl / 20);
    }
    // Vanish now and then: the peer can only take over once the lease has been quiet for a full TTL.
    if (Math.random() < 0.15) break;
    await lease.release();
  }
  process.stdout.write(JSON.stringify({ held }) + '\n');
  process.exit(0);
}

void main();
