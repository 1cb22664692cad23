/**
 * npm run bench:load — autocannon against `fc-nas-images serve` at concurrency 1, 4 and 8 (30 s each, or
 * BENCH_DURATION seconds), every connection cycling through show, rotate 90, rotate 33 and facedetect on the face
 * photo and the 0.25 MP PNG. Reports rps, p50, p99, errors and the server's RSS before and after each level.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ACTIONS, requestPath } from './image/actions';
import { writeBenchImages } from './image/test-images';
import { machineHeader } from './lib/machine';
import { runBench } from './lib/main';
import { envNumber, isSmoke } from './lib/mode';
import { memoryMiB, type RunningServer } from './lib/process';
import { markdownTable, publish, type Cell } from './lib/report';
import { startImageService } from './lib/services';
import { fmt } from './lib/stats';

/** The part of autocannon's result this bench reads (the package ships no types). */
interface AutocannonResult {
  duration: number;
  /** Connection errors, timeouts included. */
  errors: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  requests: { total: number };
  latency: { p50: number; p99: number };
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = require('autocannon') as Autocannon;

const CONCURRENCY = [1, 4, 8];

/** "0", or the count with each failing status, e.g. "12 (500 ×12)". */
function non2xx(result: AutocannonResult): string {
  const codes = Object.entries(result.statusCodeStats)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, { count }]) => `${code} ×${count}`);
  return codes.length ? `${result.non2xx} (${codes.join(', ')})` : String(result.non2xx);
}

runBench('load', async () => {
  const smoke = isSmoke();
  const seconds = envNumber('BENCH_DURATION', smoke ? 1 : 30);
  const nas = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-load-'));
  let server: RunningServer | undefined;
  try {
    const images = await writeBenchImages(nas, true);
    server = await startImageService(nas, { cache: false });
    const requests = images.flatMap((image) => ACTIONS.map((action) => ({ method: 'GET', path: requestPath(image.file, action) })));
    const rows: Cell[][] = [];
    for (const connections of CONCURRENCY) {
      const rssStart = memoryMiB(server.pid);
      const result = await autocannon({ url: server.url, connections, duration: seconds, requests, timeout: 60 });
      rows.push([
        connections,
        fmt(result.duration, 0),
        result.requests.total,
        fmt(result.requests.total / result.duration),
        result.latency.p50,
        result.latency.p99,
        result.errors,
        non2xx(result),
        fmt(rssStart, 0),
        fmt(memoryMiB(server.pid), 0),
      ]);
    }
    const table = markdownTable(
      ['concurrency', 'seconds', 'requests', 'rps', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'RSS start MiB', 'RSS end MiB'],
      rows,
    );
    const mix = `Mix: ${ACTIONS.map((a) => a.label).join(', ')} on ${images.map((i) => i.label).join(' and ')}, cycled by every connection; HTML page results, result cache and store off (IMAGE_CACHE_MB=0, IMAGE_RESULT_STORE_MB=0) so every request does the full work.`;
    publish('load', `## Load: \`fc-nas-images serve\` under autocannon\n\n${machineHeader()}\n\n${mix}\n\n${table}\n`);
  } finally {
    await server?.stop();
    fs.rmSync(nas, { recursive: true, force: true });
  }
});
