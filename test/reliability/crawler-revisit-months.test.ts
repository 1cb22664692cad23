/**
 * Half a year of hourly timer runs with revisits on (the default refresh: 1 h to 7 d), on a fake clock, against a
 * site that changes and goes down: new images and pages appear, an image vanishes, and the whole site answers 503
 * for a day. It asserts that every change reaches the collection within maxInterval, that the outage fails and loses
 * no page, that a vanished image gets goneSince, and that a settled crawl's cost stays flat: the requests per week
 * and the state folder's size do not grow with the number of runs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readManifest } from '../../src/collection/manifest';
import { parseCrawlPayload } from '../../src/crawler/payload';
import { runCrawl, type CrawlResult } from '../../src/crawler/run';
import { createLogger } from '../../src/log';
import { startChangingSite } from '../crawler/changing-site';
import { assertFigure } from './support/figures';

const AREA = 'crawler: revisits over months';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAYS = 180;
const PAGES = 200;

const dirBytes = (dir: string): number =>
  fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? dirBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);

test(`${DAYS} days of hourly runs with revisits: changes found within maxInterval, an outage loses nothing, cost stays flat`, { timeout: 600_000 }, async () => {
  const site = await startChangingSite({ pages: PAGES, images: 60 });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'revisit-months-'));
  const start = Date.UTC(2026, 0, 1);
  let now = start;
  const parsed = parseCrawlPayload({ url: site.url, rootDir: root, allowPrivateNetworks: ['127.0.0.1'], requestTimeoutMs: 1000, retries: 1 }, {});
  if (!parsed.ok) throw new Error(parsed.error);
  const logger = createLogger({ test: 'revisit-months' }, () => undefined);
  const day = () => Math.floor((now - start) / DAY);

  // Each change: when it was made, the image URL that must reach the manifest, and when it did (fake clock).
  const changes: { madeAt: number; src: string; foundAt?: number }[] = [];
  let vanished = '';
  const requestsPerWeek: number[] = [];
  const stateBytes: number[] = [];
  let failedDuringOutage = 0;
  let lastResult: CrawlResult | undefined;
  try {
    for (let run = 0; now < start + DAYS * DAY; run++, now += HOUR) {
      // The site's life: a change every 10 days from day 20 on, a vanished image on day 50, a day of 503s on day 90.
      if (now % (10 * DAY) === start % (10 * DAY) && day() >= 20 && now - start < DAYS * DAY - 8 * DAY) {
        const k = day() / 10;
        changes.push({ madeAt: now, src: site.addImage((k * 37) % PAGES) });
        const page = site.addPage((k * 53) % PAGES, 1);
        changes.push({ madeAt: now, src: site.imagesOn(page)[0] });
      }
      if (day() === 50 && !vanished) {
        vanished = site.imagesOn(11)[0];
        site.removeImage(11, vanished);
      }
      site.setDown(day() === 90);
      const requestsBefore = site.log.length;
      const result = await runCrawl(parsed.value.config, { requestId: `run-${run}`, deadline: Date.now() + 60_000, logger, now: () => now });
      assert.equal(result.error, undefined, `run ${run} (day ${day()}): ${result.error}`);
      if (day() === 90) failedDuringOutage = Math.max(failedDuringOutage, result.failedCount);
      const week = Math.floor(day() / 7);
      requestsPerWeek[week] = (requestsPerWeek[week] ?? 0) + site.log.length - requestsBefore;
      if (run % (7 * 24) === 0) stateBytes.push(dirBytes(path.join(root, 'crawl-state')));
      if (result.imagesDownloadedThisRun > 0 && changes.some((c) => c.foundAt === undefined)) {
        const urls = new Set([...(await readManifest(root)).values()].flatMap((e) => e.sourceUrls));
        for (const c of changes) if (c.foundAt === undefined && urls.has(site.origin + c.src)) c.foundAt = now;
      }
      lastResult = result;
    }
    // Every change is saved within maxInterval, plus the outage day and the hour between runs.
    const manifest = await readManifest(root);
    const delays = changes.map((c) => (c.foundAt === undefined ? Infinity : c.foundAt - c.madeAt));
    const worst = Math.max(...delays);
    const found = delays.filter(Number.isFinite).length;
    assertFigure({
      area: AREA, promise: 'every new image and page found within maxInterval',
      figure: `${found} of ${changes.length} new images saved; slowest after ${(worst / DAY).toFixed(1)} days, median ${(delays.sort((a, b) => a - b)[delays.length >> 1] / DAY).toFixed(1)} days`,
      holds: found === changes.length && worst <= 8 * DAY + HOUR,
    });
    const goneEntry = [...manifest.values()].find((e) => e.sourceUrls.includes(site.origin + vanished));
    assertFigure({ area: AREA, promise: 'a vanished image gets goneSince and stays', figure: `goneSince ${goneEntry?.goneSince ?? 'missing'}`, holds: !!goneEntry?.goneSince && fs.existsSync(path.join(root, goneEntry.file)) });
    assertFigure({ area: AREA, promise: 'a day of 503s fails no page', figure: `failed ${failedDuringOutage} during the outage, ${lastResult!.failedCount} at the end; ${lastResult!.totalCrawlCount} pages`, holds: failedDuringOutage === 0 && lastResult!.failedCount === 0 && lastResult!.totalCrawlCount === site.pageCount() });
    // A settled crawl: weeks 8+ (after the intervals have grown) cost no more than weeks 4-7, outage week aside.
    const settled = requestsPerWeek.slice(4, 8);
    const later = requestsPerWeek.slice(14, -2);
    const maxLater = Math.max(...later);
    assertFigure({ area: AREA, promise: 'requests per week do not grow with the runs', figure: `weeks 4-7: ${settled.join(', ')}; weeks 14+: max ${maxLater}`, holds: maxLater <= Math.max(...settled) * 1.5 });
    const firstMonth = Math.max(...stateBytes.slice(1, 5));
    const lastMonth = Math.max(...stateBytes.slice(-4));
    assertFigure({ area: AREA, promise: 'the state folder stays bounded', figure: `${(firstMonth / 1024).toFixed(0)} KB in month 1, ${(lastMonth / 1024).toFixed(0)} KB in month 6 (${site.pageCount()} pages)`, holds: lastMonth <= firstMonth * 2 });
  } finally {
    await site.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
