/**
 * npm run bench:result-store — what the NAS result store saves a second instance. For each bench image and each
 * round, two fresh `fc-nas-images serve` processes share one NAS folder: A renders `rotate 33` cold (empty store),
 * then B, a new process as another FC instance would be, answers the same request from the store, then again from
 * its memory. The Python baseline of the original answers the same request in the same run. HTML page results.
 * Targets (12 MP): store ≤ 1/5 of cold, and ≥ 20× faster than the baseline. Writes bench/results/result-store.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RESULTS_DIR } from '../src/collection/layout';
import { requestPath, type BenchAction } from './image/actions';
import { writeBenchImages } from './image/test-images';
import { timedGet } from './lib/http';
import { machineHeader } from './lib/machine';
import { runBench } from './lib/main';
import { isSmoke } from './lib/mode';
import { markdownTable, publish, verdict, type Cell } from './lib/report';
import { baselineVersions, startBaseline, startImageService } from './lib/services';
import { fmt, median } from './lib/stats';

const ROTATE_33: BenchAction = { label: 'rotate 33', query: { action: 'rotate', angle: '33' } };
const STORE_SHARE_TARGET = 1 / 5;
const BASELINE_TARGET = 20;

async function get(url: string): Promise<number> {
  const res = await timedGet(url);
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${res.body.toString('utf8', 0, 300)}`);
  return res.ms;
}

runBench('result-store', async () => {
  const smoke = isSmoke();
  const nas = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-result-store-'));
  try {
    const images = await writeBenchImages(nas, smoke);
    const rounds = smoke ? 1 : 3;
    const baseline = await startBaseline(nas);
    const rows: Cell[][] = [];
    const verdicts: string[] = [];
    try {
      for (const image of images) {
        const samples = { cold: [] as number[], store: [] as number[], memory: [] as number[], baseline: [] as number[] };
        const target = requestPath(image.file, ROTATE_33);
        for (let round = 0; round < rounds; round++) {
          fs.rmSync(path.join(nas, RESULTS_DIR), { recursive: true, force: true });
          const a = await startImageService(nas, { cache: true });
          try {
            samples.cold.push(await get(a.url + target));
          } finally {
            await a.stop();
          }
          const b = await startImageService(nas, { cache: true });
          try {
            samples.store.push(await get(b.url + target));
            samples.memory.push(await get(b.url + target));
          } finally {
            await b.stop();
          }
          samples.baseline.push(await get(baseline.url + target));
        }
        const [cold, store, memory, base] = [median(samples.cold), median(samples.store), median(samples.memory), median(samples.baseline)];
        const share = store / cold;
        const speedUp = base / store;
        rows.push([image.label, rounds, fmt(cold), fmt(store), fmt(memory), fmt(base), `${fmt(share * 100, 0)}%`, `**${fmt(speedUp, 0)}×**`]);
        if (image.file.includes('12mp')) {
          verdicts.push(`12 MP rotate 33: store ${fmt(store)} ms = ${fmt(share * 100, 0)}% of cold ${fmt(cold)} ms (target ≤ 20%: ${verdict(share <= STORE_SHARE_TARGET)}); ${fmt(speedUp, 0)}× faster than the baseline's ${fmt(base)} ms (target ≥ ${BASELINE_TARGET}×: ${verdict(speedUp >= BASELINE_TARGET)})`);
        }
      }
    } finally {
      await baseline.stop();
    }
    const table = markdownTable(
      ['image', 'rounds', 'cold ms (fresh process, empty store)', 'NAS store ms (second fresh process)', 'memory cache ms (same process again)', 'baseline ms', 'store / cold', 'baseline / store'],
      rows,
    );
    publish(
      'result-store',
      [
        '# Result store: cold vs NAS store vs memory cache',
        machineHeader([`Baseline: ${await baselineVersions()}`]),
        `Request: \`?action=rotate&angle=33\`, HTML page. Each round: the store is emptied, process A renders cold, then a new process B answers from the NAS store, then from its memory. Medians of ${rounds} rounds; the NAS is a local folder.`,
        table,
        ...verdicts,
      ].join('\n\n'),
    );
  } finally {
    fs.rmSync(nas, { recursive: true, force: true });
  }
});
