/** Order statistics for bench samples: the machine is shared and noisy, so benches report medians and p90, not means. */

/** The p-th percentile (0..100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A number for a table cell: fixed decimals, or an em dash where nothing was measured. */
export function fmt(value: number, decimals = 1): string {
  if (!Number.isFinite(value)) return '—';
  const text = value.toFixed(decimals);
  // A tiny negative rounds to "-0", which reads as a sign where there is none.
  return /^-0(\.0+)?$/.test(text) ? text.slice(1) : text;
}
