/**
 * How a bench run is sized. BENCH_SMOKE=1 is the tiny mode the smoke tests use to prove a script runs end to end;
 * BENCH_RESULTS_DIR keeps such runs from overwriting the published tables in bench/results.
 */
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');

export const isSmoke = (): boolean => process.env.BENCH_SMOKE === '1';

export function resultsDir(): string {
  return process.env.BENCH_RESULTS_DIR || path.join(REPO_ROOT, 'bench/results');
}

/** A positive number from the environment, else the fallback (for overrides such as BENCH_DURATION). */
export function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
