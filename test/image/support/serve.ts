/** Starts the CLI's `serve` (the image function behind the local FC front end) as a child process on a free port. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const REPO = path.join(__dirname, '../../..');

export interface Served {
  child: ChildProcess;
  url: string;
  /** Everything the server wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Resolves with the URL `serve` prints; `nodeArgs` go to node itself (e.g. --max-old-space-size). */
export function startServe(nas: string, options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}): Promise<Served> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/local/cli.ts', 'serve', '--nas', nas, '--port', '0'], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let errors = '';
  child.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL within 30 s; stdout: ${out}; stderr: ${errors}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], stderr: () => errors, stop });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}; stderr: ${errors}`));
    });
  });
}
