/**
 * npm run bench:faces — recall, false positives and time of face detectors on the labelled set of bench/faces/set
 * (bench/faces/make-set.py; sources in assets/photos/SOURCES.md): the original design's LBP cascade at 1.03/5, the
 * Haar cascades, the previous release's LBP improved setting, and the service's pipeline (src/image/faces.ts), all
 * from the same decoded pixels. Writes bench/results/faces.md (docs/image.md quotes it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DETECTOR_VERSION, detectFaces } from '../src/image/faces';
import { DEFAULT_LIMITS } from '../src/image/limits';
import { openCv } from '../src/image/opencv';
import { decodeImage, type DecodedImage } from '../src/image/source';
import { cascadeDetector, ORIGINAL, type Detector } from './faces/cascade-detector';
import { emptyScore, faceSet, readLabelled, score, SMALL_FACE, type LabelledImage } from './faces/face-set';
import { machineHeader } from './lib/machine';
import { runBench } from './lib/main';
import { isSmoke } from './lib/mode';
import { markdownTable, publish, verdict } from './lib/report';

/** OpenCV's threads for the service: IMAGE_THREADS, else one per core (src/image/opencv.ts). */
const serviceThreads = openCv().getNumThreads();
/** The image function's threads as deployed: s.yaml's IMAGE_THREADS, which test/deploy pins to its vCPUs. */
const deployedThreads = Number(/IMAGE_THREADS: '(\d+)'/.exec(fs.readFileSync(path.join(__dirname, '..', 's.yaml'), 'utf8'))?.[1] ?? 1);

/** `threads`: OpenCV threads for this row (default: the service's). */
const DETECTORS: Array<{ label: string; detect: Detector; threads?: number }> = [
  { label: 'the original: LBP frontalface 1.03/5, full size', detect: cascadeDetector(ORIGINAL) },
  { label: 'Haar frontalface_default 1.1/3, full size', detect: cascadeDetector({ file: 'haarcascades/haarcascade_frontalface_default.xml', scaleFactor: 1.1, minNeighbors: 3 }) },
  { label: 'Haar frontalface_alt2 1.1/3, full size', detect: cascadeDetector({ file: 'haarcascades/haarcascade_frontalface_alt2.xml', scaleFactor: 1.1, minNeighbors: 3 }) },
  { label: 'LBP frontalface_improved 1.1/3, full size', detect: cascadeDetector({ file: 'lbpcascades/lbpcascade_frontalface_improved.xml', scaleFactor: 1.1, minNeighbors: 3 }) },
  {
    label: 'previous release: LBP frontalface_improved 1.2/3, ≤ 800 px, min max(24 px, 5%)',
    detect: cascadeDetector({ file: 'lbpcascades/lbpcascade_frontalface_improved.xml', scaleFactor: 1.2, minNeighbors: 3, maxSide: 800, minShare: 0.05 }),
  },
  { label: `**this pipeline** (${DETECTOR_VERSION}), ${deployedThreads} OpenCV threads, as deployed (s.yaml: ${deployedThreads} vCPUs)`, detect: detectFaces, threads: deployedThreads },
  { label: `**this pipeline** on 1 OpenCV thread, as a 1-vCPU deployment would run it`, detect: detectFaces, threads: 1 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

runBench('faces', async () => {
  const rounds = isSmoke() ? 1 : 3;
  const labelled = isSmoke() ? faceSet().slice(0, 3) : faceSet();
  const images: Array<{ label: LabelledImage; decoded: DecodedImage }> = [];
  for (const label of labelled) {
    const decoded = await decodeImage(await readLabelled(label), DEFAULT_LIMITS);
    if (!decoded.ok) throw new Error(`${label.file}: ${decoded.error.message}`);
    images.push({ label, decoded: decoded.value });
  }
  const quarterMegapixels = images.reduce((sum, i) => sum + (i.label.width * i.label.height) / 250_000, 0);
  const all = emptyScore();
  for (const { label } of images) score(label, [], all);

  const loadAtStart = os.loadavg()[0];
  const results = [];
  for (const d of DETECTORS) {
    openCv().setNumThreads(d.threads ?? serviceThreads);
    const s = emptyScore();
    let totalMs = 0;
    let cpuMicros = 0;
    for (const { label, decoded } of images) {
      const boxes = await d.detect(decoded); // warm-up, and the answer that is scored
      score(label, boxes, s);
      const times: number[] = [];
      const cpu = process.cpuUsage();
      for (let r = 0; r < rounds; r++) {
        const start = performance.now();
        await d.detect(decoded);
        times.push(performance.now() - start);
      }
      const used = process.cpuUsage(cpu);
      cpuMicros += (used.user + used.system) / rounds;
      totalMs += median(times);
    }
    results.push({ label: d.label, s, msPerImage: totalMs / images.length, msPerQuarterMp: totalMs / quarterMegapixels, cpuMsPerQuarterMp: cpuMicros / 1000 / quarterMegapixels });
    process.stderr.write(`faces: ${d.label} done\n`);
  }
  openCv().setNumThreads(serviceThreads);
  const loadAtEnd = os.loadavg()[0];
  const original = results[0];
  const [ours, oursOneThread] = results.slice(-2);
  const pct = (n: number, of: number) => `${n}/${of} (${Math.round((100 * n) / of)}%)`;
  const rows = results.map((r) => [
    r.label,
    pct(r.s.found, r.s.faces),
    pct(r.s.smallFound, r.s.smallFaces),
    r.s.falsePositives,
    (r.s.falsePositives / images.length).toFixed(2),
    r.msPerImage.toFixed(1),
    r.msPerQuarterMp.toFixed(1),
    r.cpuMsPerQuarterMp.toFixed(1),
    `${(r.msPerQuarterMp / original.msPerQuarterMp).toFixed(2)}×`,
  ]);
  const faceFree = images.filter((i) => i.label.faces.length === 0).length;
  const goals = [
    `recall ≥ the original's on the whole set: ${verdict(ours.s.found >= original.s.found)} (${ours.s.found} vs ${original.s.found})`,
    `recall ≥ the original's on the small faces: ${verdict(ours.s.smallFound >= original.s.smallFound)} (${ours.s.smallFound} vs ${original.s.smallFound})`,
    `fewer false positives than the original: ${verdict(ours.s.falsePositives < original.s.falsePositives)} (${ours.s.falsePositives} vs ${original.s.falsePositives})`,
    `≤ 40 ms per 0.25 MP as deployed: ${verdict(ours.msPerQuarterMp <= 40)} by the clock on ${deployedThreads} OpenCV threads${deployedThreads > os.availableParallelism() ? ` (this machine has only ${os.availableParallelism()} cores)` : ''} (${ours.msPerQuarterMp.toFixed(1)} ms; ${(ours.msPerQuarterMp / original.msPerQuarterMp).toFixed(2)}× the original's time in the same run). For the record: ${oursOneThread.msPerQuarterMp.toFixed(1)} ms on 1 thread (a 1-vCPU deployment: ${verdict(oursOneThread.msPerQuarterMp <= 40)}). FC bills vCPUs (and GB, 1 per vCPU here) times the clock: ${(deployedThreads * ours.msPerQuarterMp).toFixed(1)} vCPU ms per 0.25 MP on ${deployedThreads} vCPUs against ${oursOneThread.msPerQuarterMp.toFixed(1)} on 1 (${((deployedThreads * ours.msPerQuarterMp) / oursOneThread.msPerQuarterMp).toFixed(2)}×); CPU time ${ours.cpuMsPerQuarterMp.toFixed(1)} against ${oursOneThread.cpuMsPerQuarterMp.toFixed(1)} ms`,
  ];
  publish(
    'faces',
    [
      '## Faces: recall, false positives and time per detector',
      '',
      machineHeader([
        `Set: bench/faces/set (bench/faces/make-set.py): ${images.length} images (${(quarterMegapixels / 4).toFixed(1)} MP), ${all.faces} labelled faces of which ${all.smallFaces} small (≤ ${SMALL_FACE} px), ${faceFree} face-free images`,
        'A detection finds a face when its centre lies inside the labelled box; each face is found once; every other detection is a false positive',
        `Time: the whole detector from decoded pixels (grey copy included), median of ${rounds} runs per image after a warm-up, summed; OpenCV's threads: the service's (IMAGE_THREADS, else one per core: ${serviceThreads} here) unless the row says otherwise. CPU ms: the process's user + system CPU time per run (all threads), which other processes on a shared machine disturb far less than the clock`,
        `Load average (1 min) at the start and the end: ${loadAtStart.toFixed(2)}, ${loadAtEnd.toFixed(2)} (other sessions share this machine)`,
      ]),
      '',
      markdownTable(['detector', 'recall, all faces', 'recall, small faces', 'false positives', 'FP per image', 'ms per image', 'ms per 0.25 MP', 'CPU ms per 0.25 MP', 'time vs the original'], rows),
      '',
      ...goals.map((g) => `- ${g}`),
    ].join('\n'),
  );
});
