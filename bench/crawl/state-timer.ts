/**
 * Preloaded (node --import) into each `fc-nas-images crawl` process of the crawl bench: it times the real state
 * I/O of the run, the state load and the state writes (journal appends with their fsync, compactions, manifest
 * appends), by wrapping those methods, not replacing them. The totals go to the file named by BENCH_STATE_TIMING
 * when the process exits, so the bench reads each run's own figures.
 */
import fs from 'node:fs';
import { ManifestWriter } from '../../src/crawler/manifest';
import { StateStore } from '../../src/nas/state-store';

export interface StateTiming {
  loadMs: number;
  writeMs: number;
  writes: number;
}

const totals: StateTiming = { loadMs: 0, writeMs: 0, writes: 0 };

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

function timeMethod(proto: object, name: string, add: (ms: number) => void): void {
  const methods = proto as Record<string, AsyncMethod>;
  const original = methods[name];
  if (typeof original !== 'function') throw new Error(`state timer: ${proto.constructor.name}.${name} is gone; update bench/crawl/state-timer.ts`);
  methods[name] = async function (this: unknown, ...args: unknown[]) {
    const start = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      add(performance.now() - start);
    }
  };
}

const write = (ms: number) => {
  totals.writeMs += ms;
  totals.writes++;
};
timeMethod(StateStore.prototype, 'load', (ms) => (totals.loadMs += ms));
timeMethod(StateStore.prototype, 'append', write);
timeMethod(StateStore.prototype, 'compact', write);
timeMethod(ManifestWriter.prototype, 'append', write);

const out = process.env.BENCH_STATE_TIMING;
if (out) process.on('exit', () => fs.writeFileSync(out, JSON.stringify(totals)));
