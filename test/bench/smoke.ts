/** Runs a bench script in its tiny mode (BENCH_SMOKE=1) as `npm run bench:*` would, with results kept out of bench/results. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../bench/lib/process';

const REPO = path.resolve(__dirname, '../..');

export interface SmokeRun {
  code: number | null;
  stdout: string;
  stderrTail: string;
  /** The markdown the bench wrote to its results file. */
  written: string;
}

export async function runSmoke(script: string, resultName: string, env: NodeJS.ProcessEnv = {}): Promise<SmokeRun> {
  const results = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
  try {
    const run = await runCommand(process.execPath, ['--import', 'tsx', script], {
      cwd: REPO,
      env: { ...process.env, BENCH_SMOKE: '1', BENCH_RESULTS_DIR: results, ...env },
    });
    const file = path.join(results, `${resultName}.md`);
    const written = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    return { code: run.code, stdout: run.stdout, stderrTail: run.stderrTail, written };
  } finally {
    fs.rmSync(results, { recursive: true, force: true });
  }
}

/** The body rows of the markdown table whose header row starts with `firstHeader`, as trimmed cells. */
export function tableRows(markdown: string, firstHeader: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(' | ').map((c) => c.trim()));
  }
  return rows;
}
