/**
 * The resume cost of a big crawl, measured by the crawler's own bench/state-load.ts (a state of 1M visited URLs
 * and 100k work items, cold-loaded by a fresh process), run as a child: its table is quoted and checked against
 * the two targets, cold load < 1 s and peak RSS < 512 MB.
 */
import { REPO_ROOT } from '../lib/mode';
import { runCommand } from '../lib/process';
import { verdict } from '../lib/report';

const LOAD_TARGET_MS = 1000;
const RSS_TARGET_MB = 512;

export async function resumeCost(): Promise<string> {
  const run = await runCommand(process.execPath, ['--import', 'tsx', 'bench/state-load.ts'], { cwd: REPO_ROOT });
  const table = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .join('\n');
  if (run.code !== 0 || !table) return `bench/state-load.ts failed (exit ${run.code}): ${run.stderrTail.slice(-500)}`;
  // Each body row reads "| state | size | <best> ms / <worst> ms | cpu | <peak> MB | scan | … |" (without and with revisit records).
  const rows = table.split('\n').slice(2).map((line) => line.slice(1, -1).split(' | ').map((cell) => cell.trim()));
  const verdicts = rows.map((cells) => {
    const worstMs = /\/ (\d+) ms/.exec(cells[2] ?? '')?.[1];
    const peakMb = /^(\d+) MB/.exec(cells[4] ?? '')?.[1];
    if (!worstMs || !peakMb) return null;
    return `${cells[0]}: cold load < 1 s: ${verdict(Number(worstMs) < LOAD_TARGET_MS)} (worst ${worstMs} ms); peak RSS < ${RSS_TARGET_MB} MB: ${verdict(Number(peakMb) < RSS_TARGET_MB)} (${peakMb} MB).`;
  });
  const targets =
    verdicts.length > 0 && verdicts.every((v) => v !== null)
      ? `Targets: ${verdicts.join(' ')}`
      : 'Targets: the state-load table no longer has the expected columns; see bench/state-load.ts.';
  return `${table}\n\n${targets}`;
}
