/**
 * The FC 3.0 API (version 2023-03-30) through @alicloud/fc2's generic signed request.
 *
 * FC 3.0 functions belong to no service, so fc2's service-based methods (/2016-08-15/services/...) cannot reach
 * them. The 3.0 API accepts the same "FC <AccessKeyId>:<signature>" header signing that fc2 implements, with the
 * version in the signed path; so the client is pointed at version 2023-03-30 and called with 3.0 paths.
 */
import FCClient from '@alicloud/fc2';
import type { RemoteConfig } from './config';

export const FC3_API_VERSION = '2023-03-30';

/** A crawl can run for the whole 300 s function timeout; the sync invoke must outlast it. */
const CLIENT_TIMEOUT_MS = 330_000;

export interface FcApi {
  /** Synchronous invocation; resolves to the function's return value as text, rejects when the function threw. */
  invokeFunction(functionName: string, event: Buffer): Promise<string>;
  getFunction(functionName: string): Promise<Record<string, unknown>>;
  getTrigger(functionName: string, triggerName: string): Promise<Record<string, unknown>>;
  updateTrigger(functionName: string, triggerName: string, update: { triggerConfig: string }): Promise<Record<string, unknown>>;
  /** The most recent async task (timer runs are async invocations), or undefined when there is none. */
  latestAsyncTask(functionName: string): Promise<Record<string, unknown> | undefined>;
}

function asObject(data: unknown, what: string): Record<string, unknown> {
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  throw new Error(`${what}: expected a JSON object from the FC API, got ${typeof data}`);
}

function asText(data: unknown): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return typeof data === 'string' ? data : JSON.stringify(data);
}

export function createFcApi(config: RemoteConfig): FcApi {
  const client = new FCClient(config.accountId, {
    accessKeyID: config.accessKeyId,
    accessKeySecret: config.accessKeySecret,
    securityToken: config.securityToken,
    region: config.region,
    endpoint: config.endpoint,
    secure: true,
    timeout: CLIENT_TIMEOUT_MS,
  });
  client.version = FC3_API_VERSION;
  const fn = (name: string) => `/functions/${name}`;

  return {
    async invokeFunction(functionName, event) {
      const res = await client.request('POST', `${fn(functionName)}/invocations`, null, event, {
        'x-fc-invocation-type': 'Sync',
        'x-fc-log-type': 'None',
      });
      // FC answers 200 even when the function threw, and says so in this header.
      const errorType = res.headers['x-fc-error-type'];
      if (errorType) throw new Error(`${functionName} failed (${String(errorType)}): ${asText(res.data).slice(0, 500)}`);
      return asText(res.data);
    },
    async getFunction(functionName) {
      return asObject((await client.request('GET', fn(functionName), null, null)).data, 'GetFunction');
    },
    async getTrigger(functionName, triggerName) {
      return asObject((await client.request('GET', `${fn(functionName)}/triggers/${triggerName}`, null, null)).data, 'GetTrigger');
    },
    async updateTrigger(functionName, triggerName, update) {
      const res = await client.request('PUT', `${fn(functionName)}/triggers/${triggerName}`, null, update);
      return asObject(res.data, 'UpdateTrigger');
    },
    async latestAsyncTask(functionName) {
      const query = { limit: '1', sortOrderByTime: 'desc', includePayload: 'false' };
      const res = asObject((await client.request('GET', `${fn(functionName)}/async-tasks`, query, null)).data, 'ListAsyncTasks');
      const tasks = Array.isArray(res.tasks) ? res.tasks : [];
      return tasks.length > 0 ? asObject(tasks[0], 'ListAsyncTasks task') : undefined;
    },
  };
}
