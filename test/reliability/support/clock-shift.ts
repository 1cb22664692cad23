/**
 * Preloaded (node --import) into a process whose wall clock must disagree with its neighbours': Date.now() and
 * new Date() run CLOCK_SHIFT_MS ahead (or behind, when negative), as on a machine whose clock is off.
 */
const shift = Number(process.env.CLOCK_SHIFT_MS ?? 0);
const RealDate = Date;

class ShiftedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + shift);
    else super(...(args as [string | number]));
  }

  static now(): number {
    return RealDate.now() + shift;
  }
}

if (shift !== 0) globalThis.Date = ShiftedDate as DateConstructor;
