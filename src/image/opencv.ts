/**
 * Loads the OpenCV addon once per process, on first use: requests that never detect faces do not pay for it.
 * The addon prints info lines to stdout on load (which would break stdout protocols) unless silenced first, and
 * must never try to build itself at run time.
 * Its external-memory tracking is switched off: Mat destructors then report to V8 during environment teardown,
 * which crashed Node 20 at exit ("Check failed: marking_done_"). Callers release their Mats explicitly instead.
 * Its thread pool gets the image threads (IMAGE_THREADS: the vCPUs on FC), not the cores the machine reports.
 */
import type * as OpenCv from '@u4/opencv4nodejs';
import { imageThreads } from './threads';

export type Cv = typeof OpenCv;

let loaded: Cv | undefined;

/** Whether the addon is in memory yet (GET /healthz). */
export const openCvLoaded = (): boolean => loaded !== undefined;

export function openCv(): Cv {
  if (!loaded) {
    process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD = '1';
    process.env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING = '1';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@u4/opencv-build').Log.silence = true;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('@u4/opencv4nodejs') as Cv;
    loaded.setNumThreads(imageThreads(process.env));
  }
  return loaded;
}
