/** Resource limits for untrusted images, from the environment with safe defaults. */
export interface ImageLimits {
  /** Largest pixel count (width x height of the first frame) decoded; larger images get 413 before decoding. */
  maxPixels: number;
  /** Largest file read, in bytes; larger files get 413 before reading. */
  maxBytes: number;
}

export const DEFAULT_LIMITS: ImageLimits = { maxPixels: 40_000_000, maxBytes: 50 * 1024 * 1024 };

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** IMAGE_MAX_PIXELS and IMAGE_MAX_BYTES override the defaults; a malformed value keeps the default. */
export function imageLimitsFromEnv(env: NodeJS.ProcessEnv): ImageLimits {
  return {
    maxPixels: positiveInt(env.IMAGE_MAX_PIXELS, DEFAULT_LIMITS.maxPixels),
    maxBytes: positiveInt(env.IMAGE_MAX_BYTES, DEFAULT_LIMITS.maxBytes),
  };
}
