/**
 * What `fc-nas-images remote` needs to reach the deployed functions: credentials from the standard Alibaba Cloud
 * environment variables, and the function and trigger names from s.yaml (so they match what `s deploy` created).
 */
import { z } from 'zod';
import { describeZodError } from '../util/zod-error';
import { err, ok, type Result } from '../result';
import type { DeployDefaults } from '../deploy/deploy-defaults';

export interface RemoteConfig {
  accountId: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  region: string;
  /** Overrides https://<account>.<region>.fc.aliyuncs.com (an -internal endpoint, or a test server). */
  endpoint?: string;
  crawlerFunction: string;
  timerTrigger: string;
}

/** Messages follow the variable's name, which the error report puts first. */
const required = z.string({ error: 'not set' }).trim().min(1, 'empty');
/** FC's own rule for names; it also keeps them safe to put in an API path unencoded. */
const fcName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/, 'must be a valid FC name (letters, digits, _ and -)');

const envSchema = z
  .object({
    ALIBABA_CLOUD_ACCESS_KEY_ID: required,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: required,
    ALIBABA_CLOUD_SECURITY_TOKEN: z.string().trim().min(1).optional(),
    ALIBABA_CLOUD_ACCOUNT_ID: required.regex(/^\d+$/, 'must be the numeric account id'),
    ALIBABA_CLOUD_REGION_ID: z.string().trim().regex(/^[a-z]+(-[a-z0-9]+)+$/, 'must look like cn-hangzhou').optional(),
    FC_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  })
  .refine((e) => !e.ALIBABA_CLOUD_ACCESS_KEY_ID.startsWith('STS.') || e.ALIBABA_CLOUD_SECURITY_TOKEN, {
    path: ['ALIBABA_CLOUD_SECURITY_TOKEN'],
    message: 'not set, but the access key is an STS key (STS.…)',
  });

/** Empty strings count as unset, as a shell `export X=` means. */
function present(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}

export function remoteConfigFromEnv(env: NodeJS.ProcessEnv, deploy: DeployDefaults): Result<RemoteConfig> {
  const parsed = envSchema.safeParse(present(env));
  if (!parsed.success) return err(`credentials: ${describeZodError(parsed.error)}`);
  const names = z.object({ crawlerFunction: fcName, timerTrigger: fcName }).safeParse({
    crawlerFunction: deploy.crawler.functionName,
    timerTrigger: deploy.crawler.timerTriggerName,
  });
  if (!names.success) return err(`s.yaml: ${describeZodError(names.error)}`);
  const e = parsed.data;
  return ok({
    accountId: e.ALIBABA_CLOUD_ACCOUNT_ID,
    accessKeyId: e.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: e.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    securityToken: e.ALIBABA_CLOUD_SECURITY_TOKEN,
    region: e.ALIBABA_CLOUD_REGION_ID ?? deploy.region,
    endpoint: e.FC_ENDPOINT,
    ...names.data,
  });
}
