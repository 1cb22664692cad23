/**
 * Renders s.yaml with Serverless Devs' own `s preview` (offline: it needs no credentials or network), in a
 * throwaway HOME so the user's ~/.s is neither read nor written, and with only the env vars a test sets.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../..');
export const S_YAML = path.join(REPO, 's.yaml');
const S_BIN = path.join(REPO, 'node_modules/@serverless-devs/s/bin/s');

export interface Rendered {
  edition: string;
  vars: Record<string, unknown>;
  resources: Record<string, { component: string; props: Record<string, any> }>;
}

export function renderSYaml(env: Record<string, string> = {}, template: string = S_YAML): Rendered {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 's-home-'));
  try {
    const stdout = execFileSync(process.execPath, [S_BIN, 'preview', '-t', template, '-o', 'json', '--silent'], {
      cwd: path.dirname(template),
      encoding: 'utf8',
      // PATH only: no FC_*/CRAWL_* from the caller's shell, so the defaults are what is rendered.
      env: { PATH: process.env.PATH, HOME: home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(stdout) as Rendered;
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
