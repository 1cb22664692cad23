/**
 * Each reliability promise is recorded as a row (area, promise, measured figure, holds) before it is asserted,
 * so the runner can print one summary table even when a test fails part-way.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { appendJsonLine, readJsonLines } from './json-lines';
import { REPO_ROOT } from './paths';

export interface Figure {
  area: string;
  promise: string;
  figure: string;
  holds: boolean;
  /** The machine could not set the test up (e.g. mounting refused); the reason is in `figure`. */
  skipped?: boolean;
}

export const FIGURES_FILE = process.env.RELIABILITY_FIGURES ?? path.join(REPO_ROOT, 'test-artifacts/reliability/figures.jsonl');

export function recordFigure(figure: Figure): void {
  appendJsonLine(FIGURES_FILE, figure);
  process.stderr.write(`[reliability] ${verdict(figure)} ${figure.area} | ${figure.promise} | ${figure.figure}\n`);
}

export function verdict(figure: Figure): 'PASS' | 'FAIL' | 'SKIP' {
  return figure.skipped ? 'SKIP' : figure.holds ? 'PASS' : 'FAIL';
}

/** Records the row, then fails the test when the promise does not hold. */
export function assertFigure(figure: Figure): void {
  recordFigure(figure);
  assert.ok(figure.holds, `${figure.area}: ${figure.promise} does not hold (${figure.figure})`);
}

export function readFigures(file: string = FIGURES_FILE): Figure[] {
  return readJsonLines<Figure>(file);
}
