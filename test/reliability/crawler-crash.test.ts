/**
 * Crash: SIGKILL the crawler at random moments of a multi-run crawl, again and again, then let it finish.
 * The image set must be exactly the site's (by sha256), with no partial files, and the state must still load.
 */
import { test } from 'node:test';
import path from 'node:path';
import { assertFigure } from './support/figures';
import { startGeneratedSite } from './support/generated-site';
import { auditNas } from './support/nas-inspect';
import { tempDir } from './support/paths';
import { crawlOnce, describeRun, type CrawlRequest, type CrawlRun } from './support/processes';
import { readConnectLog } from './support/connect-guard';
import { randomInt, sleep, waitUntil } from './support/timing';

const KILLS = Number(process.env.RELIABILITY_KILLS ?? 20);
const PAGES = 520;
const IMAGES = 150;
const AREA = 'crawler: crash';

test(`the crawl survives ${KILLS} SIGKILLs at random moments`, { timeout: 10 * 60_000 }, async (t) => {
  const tmp = tempDir('crash');
  t.after(tmp.remove);
  // 50 ms per response: the whole crawl takes about ten seconds of work, so twenty kills land mid-crawl
  // (each after at most 0.8 s of it) and the final unkilled runs still have work left to finish.
  const site = await startGeneratedSite({ pages: PAGES, images: IMAGES, latencyMs: 50 });
  t.after(site.close);
  const nas = path.join(tmp.dir, 'nas');
  const cli = { connectLog: path.join(tmp.dir, 'connect.jsonl') };
  const request: CrawlRequest = { nas, url: site.seed, pages: 1000, timeoutSeconds: 60, payload: { allowPrivateNetworks: ['127.0.0.0/8'] } };
  const requestsSoFar = () => [...site.hits.values()].reduce((a, b) => a + b, 0);

  let kills = 0;
  let attempts = 0;
  // img/ is what users see: it must never hold a half-written file, not even right after a kill.
  let partialInImg = 0;
  while (kills < KILLS && attempts < KILLS * 5) {
    attempts++;
    const before = requestsSoFar();
    const run = await crawlOnce(request, cli, async (child, exit) => {
      // Start the clock at the run's first request, then kill anywhere in the next 0.8 s: while fetching,
      // writing an image, appending to the journal or compacting.
      await waitUntil(() => requestsSoFar() > before, 30_000, exit);
      await sleep(randomInt(0, 800));
      child.kill('SIGKILL');
    });
    if (run.signal === 'SIGKILL') {
      kills++;
      partialInImg = Math.max(partialInImg, auditNas(nas).partial.filter((f) => f.startsWith('img/')).length);
    } else if (run.result?.error) t.diagnostic(`run ${attempts} failed by itself: ${describeRun(run)}`);
  }

  // Then let it run to the end, unkilled.
  let final: CrawlRun | undefined;
  for (let i = 0; i < 10 && !final?.result?.done; i++) final = await crawlOnce(request, cli);
  t.diagnostic(`after ${attempts} runs with ${kills} kills, the final run: ${final ? describeRun(final) : 'none'}`);

  const audit = auditNas(nas);
  const missing = [...site.expectedImages].filter((h) => !audit.found.has(h)).length;
  const extra = [...audit.found].filter((h) => !site.expectedImages.has(h)).length;
  const stateLoads = !!final?.result && !final.result.error && final.result.done && final.result.totalCrawlCount === PAGES;
  const offHost = readConnectLog(cli.connectLog).filter((a) => !a.allowed).length;

  assertFigure({ area: AREA, promise: `>= ${KILLS} SIGKILLs at random moments survived`, figure: `${kills} kills in ${attempts} runs, site of ${PAGES} pages`, holds: kills >= KILLS });
  assertFigure({
    area: AREA,
    promise: 'image set exactly the expected one (sha256)',
    figure: `expected ${site.expectedImages.size}, found ${audit.found.size}, missing ${missing}, unexpected ${extra}`,
    holds: missing === 0 && extra === 0,
  });
  assertFigure({
    area: AREA,
    promise: 'no partial files',
    figure: `in img/ after any kill: ${partialInImg}; anywhere after the last run: ${audit.partial.length}${audit.partial.length ? ' (' + audit.partial.slice(0, 5).join(', ') + ')' : ''}`,
    holds: partialInImg === 0 && audit.partial.length === 0,
  });
  assertFigure({
    area: AREA,
    promise: 'state loads and the crawl completes',
    figure: final ? describeRun(final) : 'no final run',
    holds: stateLoads && offHost === 0,
  });
});
