/** Child processes for the benches: servers on free loopback ports, one-shot commands, and their memory. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

const HOST = '127.0.0.1';

/** A port the kernel just handed out on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Reads a stream to the end, keeping only its last `limit` characters, so a chatty child never blocks on a full pipe. */
function keepTail(stream: NodeJS.ReadableStream | null, limit: number): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    text = (text + chunk).slice(-limit);
  });
  return () => text;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface RunningServer {
  pid: number;
  url: string;
  /** The last lines the server wrote to stdout and stderr, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerSpec {
  command: string;
  args: readonly string[];
  port: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  readyTimeoutMs?: number;
}

/** Spawns a server and resolves once its port accepts connections; rejects (and stops it) if it exits or stalls first. */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = keepTail(child.stdout, 8192);
  const stderr = keepTail(child.stderr, 8192);
  const output = () => `${stdout()}\n${stderr()}`.trim();
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited(child);
    clearTimeout(killer);
  };
  const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000);
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  while (!(await canConnect(spec.port))) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      const why = spawnError ? spawnError.message : child.exitCode !== null ? `exited with ${child.exitCode}` : 'did not listen in time';
      throw new Error(`${spec.command} ${spec.args.join(' ')}: ${why}\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid ?? -1, url: `http://${HOST}:${spec.port}`, output, stop };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderrTail: string;
  ms: number;
}

/** Runs a command to completion and times it; stdout is kept whole (the crawl CLI prints its result there). */
export async function runCommand(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  const start = performance.now();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const stderrTail = keepTail(child.stderr, 8192);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  return { code, stdout, stderrTail: stderrTail(), ms: performance.now() - start };
}

/** Resident memory of a live process in MiB (VmRSS), or its peak so far (VmHWM); NaN once it is gone. */
export function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
