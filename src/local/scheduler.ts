/**
 * Plays FC's timer trigger locally: invokes the crawler every interval, and never runs two invocations at once
 * (a tick that lands while a run is still going is skipped, and says so).
 */
export interface Scheduler {
  /** Resolves when the run in flight, if any, has finished. */
  stop(): Promise<void>;
}

export interface SchedulerOptions<T> {
  intervalMs: number;
  invoke: () => Promise<T>;
  onResult: (result: T, run: number) => void;
  onError: (error: unknown, run: number) => void;
  onSkippedTick: (run: number) => void;
}

export function startScheduler<T>(options: SchedulerOptions<T>): Scheduler {
  let inFlight: Promise<void> | null = null;
  let runs = 0;
  const tick = () => {
    if (inFlight) {
      options.onSkippedTick(runs);
      return;
    }
    const run = ++runs;
    inFlight = options
      .invoke()
      .then((result) => options.onResult(result, run), (error: unknown) => options.onError(error, run))
      .finally(() => {
        inFlight = null;
      });
  };
  tick();
  const timer = setInterval(tick, options.intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}
