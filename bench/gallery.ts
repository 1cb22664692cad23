/**
 * npm run bench:gallery — the crawler collection's gallery listing through the manifest's offset index: time of
 * pages 1 and 1,000 (24 images a page) and file-system calls per page, at 2,000 and 200,000 images. The listing
 * is what grows with the collection; the thumbnails of a page cost the same on any page. Writes
 * bench/results/gallery.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManifestWriter, type ManifestLine } from '../src/collection/manifest';
import { listCollection, PAGE_SIZE } from '../src/image/gallery';
import { countFsCalls } from './lib/fs-calls';
import { machineHeader } from './lib/machine';
import { runBench } from './lib/main';
import { isSmoke } from './lib/mode';
import { markdownTable, publish, verdict, type Cell } from './lib/report';
import { fmt, median } from './lib/stats';

const TARGET_MS = 50;

const line = (i: number): ManifestLine => ({
  file: `img/${i.toString(16).padStart(64, '0')}.jpg`,
  sourceUrl: `https://example.org/gallery/${Math.floor(i / 100)}/photo-${i}.jpg`,
  page: `https://example.org/gallery/${Math.floor(i / 100)}/`,
  width: 1024,
  height: 768,
  bytes: 150_000 + i,
  savedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
});

runBench('gallery', async () => {
  const sizes = isSmoke() ? [2000, 20_000] : [2000, 200_000];
  const rows: Cell[][] = [];
  const calls = new Map<number, number[]>();
  let met = true;
  for (const n of sizes) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gallery-'));
    try {
      const writer = new ManifestWriter(root);
      for (let i = 0; i < n; i += 5000) await writer.append(Array.from({ length: Math.min(5000, n - i) }, (_, k) => line(i + k)));
      const folder = { absolute: root, relative: '' };
      for (const page of [1, Math.min(1000, Math.floor(n / PAGE_SIZE))]) {
        const times: number[] = [];
        for (let round = 0; round < 21; round++) {
          const started = performance.now();
          const listing = await listCollection(folder, page);
          times.push(performance.now() - started);
          if (listing?.entries.length !== PAGE_SIZE) throw new Error(`page ${page} of ${n}: ${listing?.entries.length} entries`);
        }
        const { calls: count } = await countFsCalls(() => listCollection(folder, page));
        calls.set(page === 1 ? 1 : 2, [...(calls.get(page === 1 ? 1 : 2) ?? []), count]);
        const ms = median(times);
        met &&= ms <= TARGET_MS;
        rows.push([n.toLocaleString('en'), page, fmt(ms, 2), fmt(Math.max(...times), 2), count, `≤ ${TARGET_MS} ms: ${verdict(ms <= TARGET_MS)}`]);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
  const same = [...calls.values()].every((c) => new Set(c).size === 1);
  publish(
    'gallery',
    [
      '# Gallery listing through the manifest index',
      machineHeader(),
      `The crawler's ManifestWriter keeps manifest.idx (8-byte line offsets) beside manifest.jsonl; a page reads ${PAGE_SIZE} index records and their manifest lines. Median and worst of 21 listings per page (local disk, warm page cache).`,
      markdownTable(['images', 'page', 'median ms', 'max ms', 'fs calls', 'target'], rows),
      `Pages within ${TARGET_MS} ms: ${verdict(met)}. File-system calls per page the same at ${sizes.map((s) => s.toLocaleString('en')).join(' and ')} images: ${verdict(same)} (first page ${calls.get(1)?.join(' / ')}, deep page ${calls.get(2)?.join(' / ')}; the first page stats the manifest for its end).`,
    ].join('\n\n'),
  );
});
