/**
 * A command measured the way the issue reports it: wall time, CPU seconds (user + system) and peak RSS, from GNU
 * time's rusage of the child (written to a file, so the child's own stderr stays untouched).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand, type CommandResult } from '../lib/process';

export const GNU_TIME = '/usr/bin/time';

export interface MeasuredResult extends CommandResult {
  cpuS: number;
  peakRssMb: number;
}

export async function runMeasured(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<MeasuredResult> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-usage-')), 'usage');
  try {
    const run = await runCommand(GNU_TIME, ['-o', file, '-f', '%U %S %M', command, ...args], options);
    const [user, system, maxKb] = fs.readFileSync(file, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return { ...run, cpuS: user + system, peakRssMb: maxKb / 1024 };
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}
