/**
 * The one place that defines an action. Each entry holds its parameter schema, the step it adds to the pixel
 * pipeline, its label and links for pages, and the fields that enter the cache key. The request parser,
 * the renderer, the cache key and ETag, the pages, the README's action table and the fuzz corpus all read it.
 */
import type { Sharp } from 'sharp';
import { z } from 'zod';
import { isRightAngle, outlineBoxes, rotate, rotatedSize, TRANSPARENT, WHITE, type Box } from './operations';
import { supportsAlpha, type OutputFormat } from './output-format';
import type { DecodedImage } from './source';

export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0 (transparent) to 1 (opaque), as sharp takes it. */
  alpha: number;
}

/** One action parameter: its schema over the query string's text, and what a refusal or the README says. */
export interface ParamSpec<T> {
  schema: z.ZodType<T, string>;
  required: boolean;
  /** The valid values, in words: part of every refusal. */
  hint: string;
  /** How the README writes the value, e.g. DEG. */
  placeholder: string;
}

export interface ApplyContext {
  image: DecodedImage;
  format: OutputFormat;
  /** Set when the action detects faces. */
  faces: Box[] | undefined;
}

type ParamShape = Record<string, ParamSpec<unknown>>;
type Values<P extends ParamShape> = { [K in keyof P]: P[K] extends ParamSpec<infer T> ? T | undefined : never };

interface ActionSpec<P extends ParamShape> {
  /** The heading's words and the README's description. */
  label: string;
  summary: string;
  params: P;
  /** Every parameter that changes the output; a test checks that none is left out. */
  cacheKey: ReadonlyArray<keyof P & string>;
  /** Query parameters of a typical request: page links, README and fuzz corpus. */
  example: { [K in keyof P]?: string };
  /** The links an image page offers for this action. */
  links: Array<[string, Record<string, string>]>;
  /** Run the face detector first; `format=json` then answers with the faces alone. */
  detectsFaces?: boolean;
  describe?: (values: Values<P>) => string;
  outputSize?: (width: number, height: number, values: Values<P>) => { width: number; height: number };
  /** The step leaves transparent pixels where the source had none, so the output needs alpha. */
  addsTransparency?: (values: Values<P>) => boolean;
  apply: (pipeline: Sharp, values: Values<P>, ctx: ApplyContext) => Sharp;
}

/** The table's erased form, as the rest of the code reads it. */
export type ActionValues = Record<string, unknown>;
export interface ActionDefinition {
  label: string;
  summary: string;
  params: ParamShape;
  cacheKey: readonly string[];
  example: Record<string, string | undefined>;
  links: Array<[string, Record<string, string>]>;
  detectsFaces?: boolean;
  describe?: (values: ActionValues) => string;
  outputSize?: (width: number, height: number, values: ActionValues) => { width: number; height: number };
  addsTransparency?: (values: ActionValues) => boolean;
  apply: (pipeline: Sharp, values: ActionValues, ctx: ApplyContext) => Sharp;
}

const defineAction = <P extends ParamShape>(spec: ActionSpec<P>): ActionDefinition => spec as unknown as ActionDefinition;

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** A decimal number in [min, max]; the refusal for a missing or bad value is the hint itself. */
function decimal(hint: string, min: number, max: number): z.ZodType<number, string> {
  return z
    .string({ error: hint })
    .regex(DECIMAL, { error: hint })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: hint });
}

const NAMED_COLOURS: Record<string, string> = { white: 'ffffff', black: '000000', transparent: '00000000' };

export function parseColour(text: string): Rgba | undefined {
  const lower = text.toLowerCase();
  const hex = NAMED_COLOURS[lower] ?? lower.replace(/^#/, '');
  if (!/^([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/.test(hex)) return undefined;
  const full = hex.length <= 4 ? [...hex].map((c) => c + c).join('') : hex;
  const byte = (i: number) => parseInt(full.slice(i * 2, i * 2 + 2), 16);
  return { r: byte(0), g: byte(1), b: byte(2), alpha: full.length === 8 ? byte(3) / 255 : 1 };
}

const ANGLE_HINT = 'angle must be a number of degrees from -360 to 360, decimals allowed (e.g. 90, -45, 12.5)';
const COLOUR_HINT = 'background must be a hex colour (rgb, rgba, rrggbb or rrggbbaa, optionally with a leading #) or white, black, transparent';
const SIGMA_HINT = 'sigma must be a number from 0.3 to 20 (the Gaussian blur radius in pixels), decimals allowed';

const angle: ParamSpec<number> = { schema: decimal(ANGLE_HINT, -360, 360), required: true, hint: ANGLE_HINT, placeholder: 'DEG' };
const background: ParamSpec<Rgba> = {
  schema: z.string().transform((text, ctx) => parseColour(text) ?? (ctx.addIssue({ code: 'custom', message: COLOUR_HINT }), z.NEVER)),
  required: false,
  hint: COLOUR_HINT,
  placeholder: 'COLOUR',
};
const sigma: ParamSpec<number> = { schema: decimal(SIGMA_HINT, 0.3, 20), required: true, hint: SIGMA_HINT, placeholder: 'S' };

export const ACTION_TABLE = {
  show: defineAction({
    label: 'show',
    summary: 'The image, EXIF-oriented (first frame of an animation).',
    params: {},
    cacheKey: [],
    example: {},
    links: [['Show', { action: 'show' }]],
    apply: (pipeline) => pipeline,
  }),
  rotate: defineAction({
    label: 'rotate',
    summary:
      'Rotated by any angle in [-360, 360], decimals allowed. Multiples of 90 are exact pixel moves. Other angles fill the corners: transparent when the output format has alpha (PNG, WebP), white for JPEG; `background=` (`rrggbb`, `rrggbbaa`, `rgb`, `white`, `black`, `transparent`) overrides.',
    params: { angle, background },
    cacheKey: ['angle', 'background'],
    example: { angle: '90' },
    links: [
      ['Rotate 90°', { action: 'rotate', angle: '90' }],
      ['Rotate −90°', { action: 'rotate', angle: '-90' }],
      ['Rotate 30°', { action: 'rotate', angle: '30' }],
    ],
    describe: (v) => `rotate ${v.angle}°`,
    outputSize: (width, height, v) => rotatedSize(width, height, v.angle ?? 0),
    addsTransparency: (v) => !isRightAngle(v.angle ?? 0) && (v.background?.alpha ?? 1) < 1,
    apply: (pipeline, v, { format }) => rotate(pipeline, v.angle ?? 0, v.background ?? (supportsAlpha(format) ? TRANSPARENT : WHITE)),
  }),
  facedetect: defineAction({
    label: 'face detect',
    summary: 'Red rectangles around the faces. `&format=json` returns `{"width","height","faces":[{"x","y","width","height"}]}`.',
    params: {},
    cacheKey: [],
    example: {},
    links: [
      ['Face detect', { action: 'facedetect' }],
      ['Faces JSON', { action: 'facedetect', format: 'json' }],
    ],
    detectsFaces: true,
    apply: (pipeline, _v, { image, faces }) => outlineBoxes(pipeline, image.width, image.height, faces ?? []),
  }),
  flip: defineAction({
    label: 'flip',
    summary: 'Mirrored vertically (top to bottom).',
    params: {},
    cacheKey: [],
    example: {},
    links: [['Flip', { action: 'flip' }]],
    apply: (pipeline) => pipeline.flip(),
  }),
  flop: defineAction({
    label: 'flop',
    summary: 'Mirrored horizontally (left to right).',
    params: {},
    cacheKey: [],
    example: {},
    links: [['Flop', { action: 'flop' }]],
    apply: (pipeline) => pipeline.flop(),
  }),
  grayscale: defineAction({
    label: 'grayscale',
    summary: 'In shades of grey (libvips b-w colourspace); transparency is kept.',
    params: {},
    cacheKey: [],
    example: {},
    links: [['Grayscale', { action: 'grayscale' }]],
    apply: (pipeline) => pipeline.greyscale(),
  }),
  blur: defineAction({
    label: 'blur',
    summary: 'Gaussian blur with `sigma` from 0.3 to 20 pixels, decimals allowed.',
    params: { sigma },
    cacheKey: ['sigma'],
    example: { sigma: '3' },
    links: [['Blur', { action: 'blur', sigma: '3' }]],
    describe: (v) => `blur σ ${v.sigma}`,
    apply: (pipeline, v) => pipeline.blur(v.sigma),
  }),
} satisfies Record<string, ActionDefinition>;

export type ImageAction = keyof typeof ACTION_TABLE;
export const ACTIONS = Object.keys(ACTION_TABLE) as [ImageAction, ...ImageAction[]];
export const actionDefinition = (action: ImageAction): ActionDefinition => ACTION_TABLE[action];

/** Every action parameter by name; two actions that share a name share its spec. */
export const ACTION_PARAMS: Record<string, ParamSpec<unknown>> = Object.assign({}, ...ACTIONS.map((a) => ACTION_TABLE[a].params));

/** The actions that take a parameter, for the refusal of a misplaced one. */
export const actionsTaking = (param: string): ImageAction[] => ACTIONS.filter((a) => param in ACTION_TABLE[a].params);

/** The query of an action's example request, e.g. `action=rotate&angle=90`. */
export function exampleQuery(action: ImageAction): string {
  const example = Object.entries(ACTION_TABLE[action].example).filter((e): e is [string, string] => e[1] !== undefined);
  return new URLSearchParams([['action', action], ...example]).toString();
}

const canonicalValue = (value: unknown): string => {
  if (value === undefined) return '-';
  if (typeof value === 'object' && value !== null) {
    const c = value as Rgba;
    return `${c.r},${c.g},${c.b},${c.alpha}`;
  }
  return String(value);
};

/** The action's part of the canonical request, e.g. `rotate|angle=90|background=-`. */
export function canonicalAction(action: ImageAction, values: ActionValues): string {
  return [action, ...ACTION_TABLE[action].cacheKey.map((field) => `${field}=${canonicalValue(values[field])}`)].join('|');
}

/** The README's action table (test/image/action-table.test.ts keeps the README equal to it). */
export function actionTableMarkdown(): string {
  const rows = ACTIONS.map((name) => {
    const { params, summary } = ACTION_TABLE[name];
    const required = Object.entries(params)
      .filter(([, spec]) => spec.required)
      .map(([param, spec]) => `&${param}=${spec.placeholder}`)
      .join('');
    return `| \`?action=${name}${required}\` | ${summary} |`;
  });
  return ['| URL | Answer |', '|---|---|', ...rows].join('\n');
}
