/** Resource limits for untrusted images, from the environment with safe defaults. */
export interface ImageLimits {
  /** Largest pixel count (width x height of the first frame) decoded; larger images get 413 before decoding. */
  maxPixels: number;
  /** Largest file read, in bytes; larger files get 413 before reading. */
  maxBytes: number;
  /**
   * Largest answer body, in bytes, under FC's 32 MB limit for a synchronous response: a page whose data URI would
   * pass it embeds a downscaled preview, raw bytes past it get 413.
   */
  maxResponseBytes: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_LIMITS: ImageLimits = { maxPixels: 40_000_000, maxBytes: 50 * MiB, maxResponseBytes: 24 * MiB };

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** IMAGE_MAX_PIXELS, IMAGE_MAX_BYTES and IMAGE_MAX_RESPONSE_MB override the defaults; a malformed value keeps the default. */
export function imageLimitsFromEnv(env: NodeJS.ProcessEnv): ImageLimits {
  return {
    maxPixels: positiveInt(env.IMAGE_MAX_PIXELS, DEFAULT_LIMITS.maxPixels),
    maxBytes: positiveInt(env.IMAGE_MAX_BYTES, DEFAULT_LIMITS.maxBytes),
    maxResponseBytes: positiveInt(env.IMAGE_MAX_RESPONSE_MB, DEFAULT_LIMITS.maxResponseBytes / MiB) * MiB,
  };
}
