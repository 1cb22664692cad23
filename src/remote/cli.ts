/**
 * `fc-nas-images remote <command>`: controls the deployed crawler through the FC 3.0 API.
 * Results go to stdout as JSON; errors go to stderr as JSON log lines, with a non-zero exit code.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../log';
import { readDeployDefaults, type DeployDefaults } from '../deploy/deploy-defaults';
import { err, ok, type Result } from '../result';
import { invokeCrawler, setSeed, status } from './commands';
import { remoteConfigFromEnv, type RemoteConfig } from './config';
import { createFcApi, type FcApi } from './fc-api';

export interface RemoteIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export const REMOTE_USAGE = `usage: fc-nas-images remote <command>

  invoke-crawler [--payload JSON]  run the crawler once now (sync) and print its result JSON;
                                   --payload fields override the deployed timer payload
  status                           the crawler's function info, its timer, and the last timer run's result
  set-seed URL                     point the crawler's timer payload at a new seed URL

credentials: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_ACCOUNT_ID,
  optional ALIBABA_CLOUD_SECURITY_TOKEN (STS), ALIBABA_CLOUD_REGION_ID (default: s.yaml's region),
  FC_ENDPOINT (default https://<account>.<region>.fc.aliyuncs.com)`;

type Command = 'invoke-crawler' | 'status' | 'set-seed';
const COMMANDS: readonly string[] = ['invoke-crawler', 'status', 'set-seed'];

function parseRemoteArgs(args: string[]): Result<{ values: { payload?: string }; positionals: string[] }> {
  try {
    return ok(parseArgs({ args, options: { payload: { type: 'string' } }, allowPositionals: true, strict: true }));
  } catch (e) {
    return err((e as Error).message);
  }
}

function parsePayload(text: string | undefined): Result<Record<string, unknown>> {
  if (text === undefined) return ok({});
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return ok(value as Record<string, unknown>);
  } catch (e) {
    return err(`--payload is not valid JSON: ${(e as Error).message}`);
  }
  return err('--payload must be a JSON object');
}

export async function runRemote(argv: string[], io: RemoteIo): Promise<number> {
  const logger = createLogger({ component: 'remote' }, io.stderr);
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(REMOTE_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!COMMANDS.includes(command)) {
    logger.error(`unknown remote command ${JSON.stringify(command)}`, { usage: REMOTE_USAGE });
    return 2;
  }

  const args = parseRemoteArgs(rest);
  if (!args.ok) {
    logger.error(args.error, { command });
    return 2;
  }
  const { values, positionals } = args.value;
  const expected = command === 'set-seed' ? 1 : 0;
  if (positionals.length !== expected || (values.payload !== undefined && command !== 'invoke-crawler')) {
    logger.error(`wrong arguments for ${command}`, { command, usage: REMOTE_USAGE });
    return 2;
  }
  const payload = parsePayload(values.payload);
  if (!payload.ok) {
    logger.error(payload.error, { command });
    return 2;
  }

  let deploy: DeployDefaults;
  try {
    deploy = readDeployDefaults(undefined, io.env);
  } catch (e) {
    logger.error('cannot read s.yaml', { command, error: e });
    return 1;
  }
  const config = remoteConfigFromEnv(io.env, deploy);
  if (!config.ok) {
    logger.error(config.error, { command });
    return 2;
  }

  const api = createFcApi(config.value);
  const target = config.value;
  try {
    const result = await run(command as Command, api, target, payload.value, positionals[0]);
    if (!result.ok) {
      logger.error(result.error, { command, function: target.crawlerFunction });
      return 1;
    }
    io.stdout(command === 'status' ? JSON.stringify(result.value, null, 2) : JSON.stringify(result.value));
    // Like the local `crawl`: a crawl that reports a failure exits non-zero after printing its result.
    const crawlError = (result.value as { error?: unknown } | null)?.error;
    if (command === 'invoke-crawler' && typeof crawlError === 'string') {
      logger.error('the crawl failed', { command, function: target.crawlerFunction, error: crawlError });
      return 1;
    }
    return 0;
  } catch (e) {
    logger.error('FC API call failed', { command, function: target.crawlerFunction, region: target.region, error: e });
    return 1;
  }
}

function run(
  command: Command,
  api: FcApi,
  target: RemoteConfig,
  overrides: Record<string, unknown>,
  url: string | undefined,
): Promise<Result<unknown>> {
  switch (command) {
    case 'invoke-crawler':
      return invokeCrawler(api, target, overrides);
    case 'status':
      return status(api, target);
    case 'set-seed':
      return setSeed(api, target, url ?? '');
  }
}
