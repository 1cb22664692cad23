// The child of bench/state-load.ts: loads a crawl state once, cold, as a crawler invocation does, then scans for
// the pages due, and prints its figures as one JSON line. It runs what FC runs, the compiled modules (dist/cli,
// from `npm run build`), when they are up to date; else the sources through tsx, whose loader alone adds about
// 50 MB of RSS. Usage: node bench/state-load-child.cjs <dir> <now, epoch s>
const path = require('node:path');
const compiled = require('../scripts/compiled-cli.cjs');

const isCompiled = compiled.isFresh();
if (!isCompiled) require('tsx/cjs');
const base = path.join(__dirname, '..', isCompiled ? 'dist/cli/src' : 'src');
const { CrawlState } = require(path.join(base, 'crawler/state'));
const { StateStore } = require(path.join(base, 'nas/state-store'));

async function main() {
  const [dir, nowS] = process.argv.slice(2);
  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const store = new StateStore(path.join(dir, 'crawl-state'), dir);
  const state = CrawlState.fromStore(await store.load());
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const { user, system } = process.cpuUsage(cpu);
  const scanStarted = process.hrtime.bigint();
  const { pages } = state.revisits.due(Number(nowS), 100, () => false);
  const dueScanMs = Number(process.hrtime.bigint() - scanStarted) / 1e6;
  const measure = {
    ms, cpuMs: (user + system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024, rssBeforeMb: rssBefore, compiled: isCompiled,
    visited: state.history.size, frontier: state.frontier.size, dueScanMs, records: pages.length,
  };
  process.stdout.write(JSON.stringify(measure) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e && e.stack) || e}\n`);
  process.exitCode = 1;
});
