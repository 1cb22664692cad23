/**
 * The local runtime's twin of s.yaml: it reads the deployment's own file, so the mount dir, the crawler's timer
 * payload and its interval cannot drift between `fc-nas-images start` and `s deploy`.
 * It resolves the two kinds of magic variable s.yaml uses, as Serverless Devs does: `${vars.x.y}` and
 * `${env('NAME', default)}` (the env value, else the default).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { describeZodError } from '../util/zod-error';
import { checkoutRoot } from './checkout';
import { parseInterval } from '../util/duration';

export interface DeployDefaults {
  region: string;
  /** Where both functions mount the shared NAS (NAS_ROOT on FC). */
  mountDir: string;
  /** The timer trigger's payload, parsed from its JSON string. */
  payload: Record<string, unknown>;
  /** The timer's cronExpression ("@every 5m") in milliseconds. */
  intervalMs: number;
  crawler: { functionName: string; timerTriggerName: string };
  image: { functionName: string; port: number };
}

const MAGIC = /\$\{([^}]*)\}/g;
const ENV_CALL = /^env\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*(?:,\s*(?:(['"])(.*?)\3|(-?\d+(?:\.\d+)?)))?\s*\)$/;

function lookupVar(vars: unknown, dotted: string): unknown {
  let node = vars;
  for (const key of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`s.yaml: \${vars.${dotted}} is not defined`);
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function evaluate(expression: string, vars: unknown, env: NodeJS.ProcessEnv): unknown {
  const expr = expression.trim();
  if (expr.startsWith('vars.')) return lookupVar(vars, expr.slice('vars.'.length));
  const call = ENV_CALL.exec(expr);
  if (call) {
    const [, , name, , text, number] = call;
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (number !== undefined) return Number(number);
    return text ?? '';
  }
  throw new Error(`s.yaml: unsupported magic variable \${${expr}} (the twin resolves \${vars.x} and \${env('NAME', default)})`);
}

/** A string that is one whole expression keeps the value's type (object, number); otherwise it is interpolated. */
function resolve(node: unknown, vars: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof node === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(node);
    if (whole) return resolve(evaluate(whole[1], vars, env), vars, env);
    return node.replace(MAGIC, (_, expr: string) => {
      const value = resolve(evaluate(expr, vars, env), vars, env);
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    });
  }
  if (Array.isArray(node)) return node.map((item) => resolve(item, vars, env));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v, vars, env)]));
  }
  return node;
}

const timerTrigger = z.object({
  triggerName: z.string(),
  triggerType: z.literal('timer'),
  triggerConfig: z.object({ cronExpression: z.string(), payload: z.string() }),
});
const functionProps = z.object({
  region: z.string(),
  functionName: z.string(),
  nasConfig: z.object({ mountPoints: z.array(z.object({ mountDir: z.string() })).min(1) }),
  environmentVariables: z.object({ NAS_ROOT: z.string() }),
  triggers: z.array(z.looseObject({ triggerType: z.string() })),
});
const sYamlSchema = z.object({
  resources: z.object({
    crawler: z.object({ props: functionProps }),
    image: z.object({ props: functionProps.extend({ customRuntimeConfig: z.object({ port: z.number().int() }) }) }),
  }),
});

/** Reads s.yaml's deployment values with the env defaults (or the env's own values); throws on a malformed file. */
export function readDeployDefaults(sYamlPath: string = path.join(checkoutRoot(), 's.yaml'), env: NodeJS.ProcessEnv = process.env): DeployDefaults {
  const raw = parse(fs.readFileSync(sYamlPath, 'utf8')) as { vars?: unknown; resources?: Record<string, unknown> };
  const vars = resolve(raw.vars ?? {}, raw.vars ?? {}, env);
  // Only the two functions: the domain resource refers to ${resources...}, which only `s` itself resolves.
  const functions = { crawler: raw.resources?.crawler, image: raw.resources?.image };
  const parsed = sYamlSchema.safeParse(resolve({ resources: functions }, vars, env));
  if (!parsed.success) throw new Error(`${sYamlPath}: ${describeZodError(parsed.error)}`);
  const { crawler, image } = parsed.data.resources;

  const timers = crawler.props.triggers.filter((t) => t.triggerType === 'timer');
  if (timers.length !== 1) throw new Error(`${sYamlPath}: the crawler needs exactly one timer trigger, found ${timers.length}`);
  const timer = timerTrigger.safeParse(timers[0]);
  if (!timer.success) throw new Error(`${sYamlPath}: crawler timer trigger: ${describeZodError(timer.error)}`);
  const { cronExpression, payload: payloadText } = timer.data.triggerConfig;

  const interval = parseInterval(cronExpression);
  if (!interval.ok) throw new Error(`${sYamlPath}: crawler timer: ${interval.error}`);
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch (e) {
    throw new Error(`${sYamlPath}: crawler timer payload is not valid JSON: ${(e as Error).message}`);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new Error(`${sYamlPath}: crawler timer payload must be a JSON object`);
  }

  const mountDir = crawler.props.nasConfig.mountPoints[0].mountDir;
  for (const [name, fn] of Object.entries({ crawler, image })) {
    const dirs = [fn.props.nasConfig.mountPoints[0].mountDir, fn.props.environmentVariables.NAS_ROOT];
    if (dirs.some((dir) => dir !== mountDir)) {
      throw new Error(`${sYamlPath}: ${name} mounts the NAS at ${dirs.join(' / ')}, not ${mountDir}: both functions must share one mount dir`);
    }
  }

  return {
    region: crawler.props.region,
    mountDir,
    payload: payload as Record<string, unknown>,
    intervalMs: interval.value,
    crawler: { functionName: crawler.props.functionName, timerTriggerName: timer.data.triggerName },
    image: { functionName: image.props.functionName, port: image.props.customRuntimeConfig.port },
  };
}
