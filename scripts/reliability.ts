/**
 * `npm run test:reliability [-- NAME...]`: runs test/reliability/*.test.ts (or those whose name contains a NAME)
 * with Node's test runner, one file at a time since they measure time and memory, then prints one table of
 * every promise with its measured figure and writes it to test/reliability/results.md. Exits non-zero when a
 * test fails or a promise does not hold.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIGURES_FILE, readFigures, verdict, type Figure } from '../test/reliability/support/figures';
import { REPO_ROOT } from '../test/reliability/support/paths';

const SUITE_DIR = path.join(REPO_ROOT, 'test/reliability');
const RESULTS = path.join(SUITE_DIR, 'results.md');
const TAP = path.join(path.dirname(FIGURES_FILE), 'reliability.tap');

function selectedFiles(names: string[]): string[] {
  const all = fs.readdirSync(SUITE_DIR).filter((f) => f.endsWith('.test.ts')).sort();
  const chosen = names.length ? all.filter((f) => names.some((n) => f.includes(n))) : all;
  return chosen.map((f) => path.join('test/reliability', f));
}

function runTests(files: string[]): Promise<number> {
  const args = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${TAP}`, ...files];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

/** The totals line of the TAP report, e.g. { tests: 19, pass: 19, fail: 0 }. */
function tapCounts(): Record<string, number> {
  const text = fs.existsSync(TAP) ? fs.readFileSync(TAP, 'utf8') : '';
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^# (tests|pass|fail|skipped|cancelled) (\d+)$/gm)) counts[m[1]] = Number(m[2]);
  return counts;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(figures: Figure[]): string {
  const rows = figures.map((f) => `| ${cell(f.area)} | ${cell(f.promise)} | ${cell(f.figure)} | ${verdict(f)} |`);
  return ['| Area | Promise | Measured | Result |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

async function main(): Promise<number> {
  const files = selectedFiles(process.argv.slice(2));
  if (files.length === 0) {
    process.stderr.write(`no test/reliability/*.test.ts matches ${process.argv.slice(2).join(' ')}\n`);
    return 2;
  }
  fs.mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
  fs.rmSync(FIGURES_FILE, { force: true });
  fs.rmSync(TAP, { force: true });
  const started = Date.now();
  const exitCode = await runTests(files);
  const minutes = (Date.now() - started) / 60_000;

  const figures = readFigures();
  const counts = tapCounts();
  const failing = figures.filter((f) => verdict(f) === 'FAIL').length;
  const soak = process.env.RELIABILITY_SOAK_SECONDS ?? '120';
  const header = [
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'} (${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB), Node ${process.version}, soak ${soak} s.`,
    `Tests: ${counts.tests ?? '?'}, passed ${counts.pass ?? '?'}, failed ${counts.fail ?? '?'}, skipped ${counts.skipped ?? 0}; promises: ${figures.length}, failing ${failing}; ${minutes.toFixed(1)} min.`,
  ].join('\n');
  const report = `${header}\n\n${table(figures)}\n`;
  process.stdout.write(`\nReliability summary\n${report}`);
  if (files.length === selectedFiles([]).length) fs.writeFileSync(RESULTS, `# Reliability results\n\n\`npm run test:reliability\` (see the README's Reliability section).\n\n${report}`);
  return exitCode !== 0 || failing > 0 ? 1 : 0;
}

main().then((code) => (process.exitCode = code));
