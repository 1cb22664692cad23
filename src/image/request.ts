/**
 * Parsing and validation of an image request's parameters, kept apart from the work (as in AWS's
 * serverless-image-handler): the query string and a POST form or JSON body are merged, checked by one zod
 * schema, then checked across fields. Every refusal names the valid values.
 */
import { z } from 'zod';
import type { HttpRequest } from '../fc/http-event';
import { err, ok, type Result } from '../result';
import type { OutputFormat } from './output-format';
import { problem, type Problem } from './problem';

export const ACTIONS = ['show', 'rotate', 'facedetect', 'flip', 'flop'] as const;
export type ImageAction = (typeof ACTIONS)[number];
const FORMATS = ['html', 'json', 'png', 'jpeg', 'jpg', 'webp'] as const;
const PARAMETERS = ['action', 'angle', 'background', 'format', 'raw', 'page'] as const;

export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0 (transparent) to 1 (opaque), as sharp takes it. */
  alpha: number;
}

export type ImageOutput = { kind: 'html' } | { kind: 'json' } | { kind: 'raw'; format: OutputFormat | undefined };

/** What to do with one image; `action` undefined means the image's own HTML page. */
export interface ImageRequest {
  action: ImageAction | undefined;
  /** Degrees, in [-360, 360]; set exactly when action is rotate. */
  angle: number | undefined;
  background: Rgba | undefined;
  output: ImageOutput;
}

export interface GalleryRequest {
  page: number;
}

export interface RequestParams {
  action?: ImageAction;
  angle?: number;
  background?: Rgba;
  format?: (typeof FORMATS)[number];
  raw?: boolean;
  page?: number;
}

const NAMED_COLOURS: Record<string, string> = { white: 'ffffff', black: '000000', transparent: '00000000' };
const COLOUR_HINT = 'a hex colour (rgb, rgba, rrggbb or rrggbbaa, optionally with a leading #) or white, black, transparent';

export function parseColour(text: string): Rgba | undefined {
  const lower = text.toLowerCase();
  const hex = NAMED_COLOURS[lower] ?? lower.replace(/^#/, '');
  if (!/^([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/.test(hex)) return undefined;
  const full = hex.length <= 4 ? [...hex].map((c) => c + c).join('') : hex;
  const byte = (i: number) => parseInt(full.slice(i * 2, i * 2 + 2), 16);
  return { r: byte(0), g: byte(1), b: byte(2), alpha: full.length === 8 ? byte(3) / 255 : 1 };
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const ANGLE_HINT = 'angle must be a number of degrees from -360 to 360, decimals allowed (e.g. 90, -45, 12.5)';

const paramsSchema = z.strictObject({
  action: z.enum(ACTIONS, { error: `action must be one of: ${ACTIONS.join(', ')} (or omitted for the image's page)` }).optional(),
  angle: z
    .string()
    .regex(DECIMAL, { error: ANGLE_HINT })
    .transform(Number)
    .refine((a) => a >= -360 && a <= 360, { error: ANGLE_HINT })
    .optional(),
  background: z
    .string()
    .transform((text, ctx) => parseColour(text) ?? (ctx.addIssue({ code: 'custom', message: `background must be ${COLOUR_HINT}` }), z.NEVER))
    .optional(),
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
  const parsed = paramsSchema.safeParse({ ...req.query, ...body.value });
  if (!parsed.success) return err(problem(400, describeIssues(parsed.error.issues)));
  return ok(parsed.data);
}

function imageOutput(params: RequestParams): ImageOutput {
  if (params.format === 'json') return { kind: 'json' };
  if (params.format === 'html') return { kind: 'html' };
  if (params.format) return { kind: 'raw', format: params.format === 'jpg' ? 'jpeg' : params.format };
  return params.raw ? { kind: 'raw', format: undefined } : { kind: 'html' };
}

/** The checks that span fields, for a request whose path is an image. */
export function toImageRequest(params: RequestParams): Result<ImageRequest, Problem> {
  const { action } = params;
  const bad = (message: string) => err(problem(400, message));
  if (params.page !== undefined) return bad('page applies only to a gallery (a folder), not to an image');
  if (action === 'rotate' && params.angle === undefined) return bad(`action=rotate needs an angle: ${ANGLE_HINT}`);
  if (action !== 'rotate' && params.angle !== undefined) return bad('angle applies only to action=rotate');
  if (action !== 'rotate' && params.background !== undefined) return bad('background applies only to action=rotate');
  if (params.format === 'json' && action !== 'facedetect') return bad('format=json applies only to action=facedetect; for images use format=html, png, jpeg or webp');
  if (params.raw && (params.format === 'json' || params.format === 'html')) return bad(`raw=1 returns image bytes; it cannot be combined with format=${params.format}`);
  const output = imageOutput(params);
  // Raw bytes without an action are the image itself.
  return ok({ action: action ?? (output.kind === 'raw' ? 'show' : undefined), angle: params.angle, background: params.background, output });
}

/** A folder takes only `page`. */
export function toGalleryRequest(params: RequestParams): Result<GalleryRequest, Problem> {
  const extra = Object.keys(params).filter((k) => k !== 'page' && params[k as keyof RequestParams] !== undefined);
  if (extra.length) return err(problem(400, `this path is a folder (a gallery); it takes only page=N, not ${extra.join(', ')}`));
  return ok({ page: params.page ?? 1 });
}
