/**
 * Parsing and validation of an image request's parameters, kept apart from the work (as in AWS's
 * serverless-image-handler): the query string and a POST form or JSON body are merged, checked by one zod
 * schema, then checked across fields. Every refusal names the valid values.
 */
import { z } from 'zod';
import type { HttpRequest } from '../fc/http-event';
import { err, ok, type Result } from '../result';
import { ACTION_PARAMS, ACTION_TABLE, ACTIONS, actionsTaking, type ActionValues, type ImageAction } from './actions';
import type { OutputFormat } from './output-format';
import { problem, type Problem } from './problem';

const FORMATS = ['html', 'json', 'png', 'jpeg', 'jpg', 'webp'] as const;
const PARAMETERS = ['action', ...Object.keys(ACTION_PARAMS), 'format', 'raw', 'page'];

export type ImageOutput = { kind: 'html' } | { kind: 'json' } | { kind: 'raw'; format: OutputFormat | undefined };

/** What to do with one image; `action` undefined means the image's own HTML page. */
export interface ImageRequest {
  action: ImageAction | undefined;
  /** The action's own parameters, validated by its schema in the action table. */
  values: ActionValues;
  /** The action and its parameters as the client wrote them, for links to the same result in another output. */
  query: Record<string, string>;
  output: ImageOutput;
}

export interface GalleryRequest {
  page: number;
}

export interface RequestParams {
  action?: ImageAction;
  format?: (typeof FORMATS)[number];
  raw?: boolean;
  page?: number;
  /** Every action parameter given, validated but not yet matched to the action. */
  values: ActionValues;
  /** The same parameters as given, text. */
  given: Record<string, string>;
}

const actionParamSchemas = Object.fromEntries(Object.entries(ACTION_PARAMS).map(([name, spec]) => [name, spec.schema.optional()]));

const paramsSchema = z.strictObject({
  action: z.enum(ACTIONS, { error: `action must be one of: ${ACTIONS.join(', ')} (or omitted for the image's page)` }).optional(),
  ...actionParamSchemas,
  format: z.enum(FORMATS, { error: `format must be one of: ${FORMATS.join(', ')}` }).optional(),
  raw: z
    .enum(['1', '0', 'true', 'false'], { error: 'raw must be 1, 0, true or false' })
    .transform((v) => v === '1' || v === 'true')
    .optional(),
  page: z.string().regex(/^[1-9]\d{0,5}$/, { error: 'page must be a whole number from 1' }).transform(Number).optional(),
});

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown parameter ${issue.keys.join(', ')}; valid parameters: ${PARAMETERS.join(', ')}`
        : issue.message,
    )
    .join('; ');
}

/** The POST body as flat string fields; a form or a JSON object of scalars. */
function bodyFields(req: HttpRequest): Result<Record<string, string>, Problem> {
  if (req.method !== 'POST' || req.body.length === 0) return ok({});
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const text = req.body.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') return ok(Object.fromEntries(new URLSearchParams(text)));
  if (type === 'application/json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return err(problem(400, `the JSON body is not valid JSON: ${(e as Error).message}`));
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return err(problem(400, 'the JSON body must be an object of parameters'));
    const fields: Record<string, string> = {};
    for (const [key, v] of Object.entries(value)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        return err(problem(400, `parameter ${key} must be a string, number or boolean`));
      }
      fields[key] = String(v);
    }
    return ok(fields);
  }
  return err(problem(415, 'a POST body must be application/x-www-form-urlencoded or application/json'));
}

/** Merges query and body (the body wins) and validates each parameter on its own. */
export function parseRequestParams(req: HttpRequest): Result<RequestParams, Problem> {
  const body = bodyFields(req);
  if (!body.ok) return body;
  const input = { ...req.query, ...body.value };
  const parsed = paramsSchema.safeParse(input);
  if (!parsed.success) return err(problem(400, describeIssues(parsed.error.issues)));
  const { action, format, raw, page, ...values } = parsed.data as Omit<RequestParams, 'values' | 'given'> & ActionValues;
  const given = Object.fromEntries(Object.keys(ACTION_PARAMS).filter((name) => name in input).map((name) => [name, input[name]]));
  return ok({ action, format, raw, page, given, values: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) });
}

function imageOutput(params: RequestParams): ImageOutput {
  if (params.format === 'json') return { kind: 'json' };
  if (params.format === 'html') return { kind: 'html' };
  if (params.format) return { kind: 'raw', format: params.format === 'jpg' ? 'jpeg' : params.format };
  return params.raw ? { kind: 'raw', format: undefined } : { kind: 'html' };
}

/** The checks that span fields, for a request whose path is an image. */
export function toImageRequest(params: RequestParams): Result<ImageRequest, Problem> {
  const bad = (message: string) => err(problem(400, message));
  if (params.page !== undefined) return bad('page applies only to a gallery (a folder), not to an image');
  const output = imageOutput(params);
  // Raw bytes without an action are the image itself.
  const action = params.action ?? (output.kind === 'raw' ? 'show' : undefined);
  const own = action ? ACTION_TABLE[action].params : {};
  for (const name of Object.keys(params.values)) {
    if (!(name in own)) return bad(`${name} applies only to ${actionsTaking(name).map((a) => `action=${a}`).join(' or ')}`);
  }
  for (const [name, spec] of Object.entries(own)) {
    if (spec.required && params.values[name] === undefined) return bad(`action=${action} needs ${name}: ${spec.hint}`);
  }
  if (params.format === 'json' && !(action && ACTION_TABLE[action].detectsFaces)) {
    const faceActions = ACTIONS.filter((a) => ACTION_TABLE[a].detectsFaces).map((a) => `action=${a}`).join(', ');
    return bad(`format=json applies only to ${faceActions}; for images use format=html, png, jpeg or webp`);
  }
  if (params.raw && (params.format === 'json' || params.format === 'html')) return bad(`raw=1 returns image bytes; it cannot be combined with format=${params.format}`);
  return ok({ action, values: params.values, query: action ? { action, ...params.given } : {}, output });
}

/** A folder takes only `page`. */
export function toGalleryRequest(params: RequestParams): Result<GalleryRequest, Problem> {
  const { page, values, given: _given, ...rest } = params;
  const extra = [...Object.keys(rest).filter((k) => rest[k as keyof typeof rest] !== undefined), ...Object.keys(values)];
  if (extra.length) return err(problem(400, `this path is a folder (a gallery); it takes only page=N, not ${extra.join(', ')}`));
  return ok({ page: page ?? 1 });
}
