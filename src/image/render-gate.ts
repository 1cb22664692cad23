/**
 * Admission control for renders: at most `active` at once per instance and a bounded queue behind them. A
 * request that finds the queue full is turned away at once (503 with Retry-After) instead of holding its
 * decoded pixels in memory, so a burst costs refusals, never an out-of-memory crash.
 */
import os from 'node:os';
import { Semaphore } from '../util/semaphore';

export class QueueFull extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many images are being rendered; try again shortly');
  }
}

export class RenderGate {
  private readonly slots: Semaphore;

  constructor(
    readonly maxActive: number,
    readonly maxQueued: number,
  ) {
    this.slots = new Semaphore(maxActive);
  }

  /** Runs `task` when a slot is free; throws QueueFull when the queue is full. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.slots.saturated && this.slots.queued >= this.maxQueued) {
      return Promise.reject(new QueueFull(1 + Math.ceil(this.slots.queued / this.maxActive)));
    }
    return this.slots.use(task);
  }
}

const positive = (value: string | undefined) => {
  const n = Number(value);
  return value !== undefined && Number.isSafeInteger(n) && n > 0 ? n : undefined;
};

/**
 * IMAGE_MAX_CONCURRENT_RENDERS (default: the vCPUs, which s.yaml passes as IMAGE_THREADS because FC's CPU quota is
 * invisible to availableParallelism) and IMAGE_RENDER_QUEUE (default 4 per render slot).
 */
export function renderGateFromEnv(env: NodeJS.ProcessEnv): RenderGate {
  const active = positive(env.IMAGE_MAX_CONCURRENT_RENDERS) ?? positive(env.IMAGE_THREADS) ?? os.availableParallelism();
  return new RenderGate(active, positive(env.IMAGE_RENDER_QUEUE) ?? 4 * active);
}
