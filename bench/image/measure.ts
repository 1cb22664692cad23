/**
 * One cell of the image bench: the same image and action through every side (our service, the baseline, the raw
 * in-process pipeline...), sampled in turn within each round, so drift on a noisy machine hits all sides alike.
 */
import { timedGet } from '../lib/http';

/** Takes one sample and returns its duration in ms. */
export type Sampler = () => Promise<number>;

export function httpSampler(url: string): Sampler {
  return async () => {
    const res = await timedGet(url);
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${res.body.toString('utf8', 0, 200)}`);
    return res.ms;
  };
}

export function callSampler(call: () => Promise<unknown>): Sampler {
  return async () => {
    const start = performance.now();
    await call();
    return performance.now() - start;
  };
}

export interface Rounds {
  min: number;
  max: number;
  /** Wall time to spend on the timed rounds, which sets their number between min and max. */
  budgetMs: number;
}

/** One untimed warm-up round (first-use costs such as loading a cascade, filling a cache), then the timed rounds. */
export async function measureCell<K extends string>(samplers: Record<K, Sampler>, rounds: Rounds): Promise<Record<K, number[]>> {
  const sides = Object.keys(samplers) as K[];
  const round = async () => {
    const took = {} as Record<K, number>;
    for (const side of sides) took[side] = await samplers[side]();
    return took;
  };
  const warm = await round();
  const perRound = sides.reduce((sum, side) => sum + warm[side], 0);
  const count = Math.max(rounds.min, Math.min(rounds.max, Math.floor(rounds.budgetMs / perRound)));
  const samples = Object.fromEntries(sides.map((side) => [side, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < count; i++) {
    const took = await round();
    for (const side of sides) samples[side].push(took[side]);
  }
  return samples;
}
