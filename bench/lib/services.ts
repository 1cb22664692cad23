/** The two image services the benches drive: ours through `fc-nas-images serve`, and the Python baseline of the original. */
import path from 'node:path';
import { REPO_ROOT } from './mode';
import { freePort, runCommand, startServer, type RunningServer } from './process';

/** Debian's interpreter: the pyenv python3 that may come first on PATH cannot see python3-opencv and python3-wand. */
const DEBIAN_PYTHON = '/usr/bin/python3';

export const NO_CACHE = { IMAGE_CACHE_MB: '0', IMAGE_RESULT_STORE_MB: '0', IMAGE_FACE_STORE: 'off' };

/**
 * `fc-nas-images serve` run by node itself (not through npx), so the pid is the server's and its RSS is the server's.
 * `cache: false` sets IMAGE_CACHE_MB=0, IMAGE_RESULT_STORE_MB=0 and IMAGE_FACE_STORE=off (no memory cache, no NAS result
 * store, no faces sidecars), so that every request decodes, transforms, detects and encodes. `env` adds variables.
 */
export async function startImageService(nasDir: string, options: { cache: boolean; env?: NodeJS.ProcessEnv }): Promise<RunningServer> {
  const port = await freePort();
  const args = ['--import', 'tsx', 'src/local/cli.ts', 'serve', '--nas', nasDir, '--port', String(port), '--host', '127.0.0.1'];
  const env = { ...process.env, ...(options.cache ? {} : NO_CACHE), ...options.env };
  return startServer({ command: process.execPath, args, port, cwd: REPO_ROOT, env });
}

export async function startBaseline(root: string): Promise<RunningServer> {
  const port = await freePort();
  const args = [path.join(REPO_ROOT, 'bench/baseline/app.py'), '--root', root, '--port', String(port)];
  return startServer({ command: DEBIAN_PYTHON, args, port });
}

/** The baseline's interpreter, OpenCV and ImageMagick versions, for the table header. */
export async function baselineVersions(): Promise<string> {
  const script = "import sys, cv2, wand.version as w; print('Python', sys.version.split()[0] + ', OpenCV', cv2.__version__ + ', Wand', w.VERSION, 'on', w.MAGICK_VERSION.split(' https')[0])";
  const run = await runCommand(DEBIAN_PYTHON, ['-c', script]);
  return run.code === 0 ? run.stdout.trim() : `unknown (${run.stderrTail.trim()})`;
}
