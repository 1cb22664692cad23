/**
 * Load and soak: autocannon drives `fc-nas-images serve`, its result cache off, with a mix of every action at
 * concurrency 8 for two minutes (RELIABILITY_SOAK_SECONDS to change). No request may fail, and its RSS at the
 * end must be within 10% of its RSS after the warm-up: memory that keeps growing under steady load is a leak.
 */
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { assertFigure } from './support/figures';
import { PHOTOS, tempDir } from './support/paths';
import { memoryMiB } from '../../bench/lib/process';
import { startImageServer } from './support/processes';

const AREA = 'image: load and soak';
const SOAK_SECONDS = Number(process.env.RELIABILITY_SOAK_SECONDS ?? 120);
const WARMUP_SECONDS = Number(process.env.RELIABILITY_WARMUP_SECONDS ?? 30);
const CONNECTIONS = 8;

/** The fields of autocannon's result read here (the package ships no types). */
interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; requests: Array<{ path: string }>; timeout: number }) => Promise<LoadResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

const MIX = [
  '/img/astronaut.png?action=show',
  '/img/camera.png?action=rotate&angle=90',
  '/img/coffee.png?action=flip',
  '/img/astronaut.png?action=flop',
  '/img/camera.png?action=facedetect',
  '/img/coffee.png?action=rotate&angle=270',
  '/img/astronaut.png?action=facedetect',
  '/img/camera.png',
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

test(`soak: ${SOAK_SECONDS} s at concurrency ${CONNECTIONS}, mixed actions`, { timeout: (SOAK_SECONDS + WARMUP_SECONDS + 120) * 1000 }, async (t) => {
  const tmp = tempDir('soak');
  t.after(tmp.remove);
  const nas = path.join(tmp.dir, 'nas');
  fs.mkdirSync(path.join(nas, 'img'), { recursive: true });
  for (const name of ['astronaut.png', 'camera.png', 'coffee.png']) fs.copyFileSync(path.join(PHOTOS, name), path.join(nas, 'img', name));
  // The result cache, the NAS result store and the faces sidecars off: every request decodes, transforms or detects
  // faces, so a leak anywhere shows.
  const server = await startImageServer(nas, { connectLog: path.join(tmp.dir, 'connect.jsonl'), env: { IMAGE_CACHE_MB: '0', IMAGE_RESULT_STORE_MB: '0', IMAGE_FACE_STORE: 'off' } });
  t.after(() => server.stop());
  const load = (duration: number) => autocannon({ url: server.url, connections: CONNECTIONS, duration, requests: MIX.map((p) => ({ path: p })), timeout: 30 });

  const warm = await load(WARMUP_SECONDS);
  // RSS every second of the soak. Under load it swings with the requests in flight (a decoded photo is tens of MB),
  // so a single reading can catch a peak: each quarter is summed up by its median, and a leak shows as medians
  // that keep climbing. "After warm-up" is the first quarter's median, "at the end" the last one's.
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(memoryMiB(server.pid)), 1000);
  let soak: LoadResult;
  try {
    soak = await load(SOAK_SECONDS);
  } finally {
    clearInterval(sampler);
  }
  const quarterSize = Math.max(1, Math.floor(samples.length / 4));
  const quarters = [0, 1, 2, 3].map((q) => median(samples.slice(q * quarterSize, q === 3 ? undefined : (q + 1) * quarterSize)));
  const [rssWarm, rssEnd] = [quarters[0], quarters[3]];
  const errors = warm.errors + warm.timeouts + warm.non2xx + soak.errors + soak.timeouts + soak.non2xx;
  const drift = (rssEnd - rssWarm) / rssWarm;

  assertFigure({
    area: AREA,
    promise: `${SOAK_SECONDS} s at concurrency ${CONNECTIONS}, mixed actions: zero errors`,
    figure: `${soak.requests.total} requests, ${soak.requests.average.toFixed(1)} req/s, p50 ${soak.latency.p50} ms, p99 ${soak.latency.p99} ms; ${errors} errors (incl. ${warm.requests.total} warm-up requests)`,
    holds: errors === 0 && soak.requests.total > 0,
  });
  assertFigure({
    area: AREA,
    promise: 'RSS at the end within 10% of RSS after warm-up',
    figure: `median RSS by quarter after a ${WARMUP_SECONDS} s warm-up: ${quarters.map((m) => m.toFixed(0)).join(' -> ')} MB (${(drift * 100).toFixed(1)}%; ${samples.length} samples, ${Math.min(...samples).toFixed(0)}-${Math.max(...samples).toFixed(0)} MB)`,
    holds: Math.abs(drift) <= 0.1,
  });
});
