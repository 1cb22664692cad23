/** Markdown output of a bench: tables on stdout, and the same document in bench/results/<name>.md for the README. */
import fs from 'node:fs';
import path from 'node:path';
import { resultsDir } from './mode';

export type Cell = string | number;

export function markdownTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const line = (cells: readonly Cell[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** "met" or "MISSED" against a target; a bench reports a miss and still exits 0. */
export function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** Prints the document and writes it to <results dir>/<name>.md; returns the file written. */
export function publish(name: string, markdown: string): string {
  const dir = resultsDir();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.md`);
  fs.writeFileSync(file, markdown.endsWith('\n') ? markdown : markdown + '\n');
  process.stdout.write(markdown + '\n');
  return file;
}
