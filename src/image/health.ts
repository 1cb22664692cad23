/**
 * `GET /healthz`: what an operator (or a load balancer) needs to know about one instance, without touching an
 * image: the version, whether OpenCV is loaded, whether the NAS root is readable, and the result store's state.
 * Each check is one small function so that more can be added beside them.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { version } from '../../package.json';
import { RESULTS_DIR } from '../collection/layout';
import { resultStoreCapFromEnv } from '../collection/result-store';
import { openCvLoaded } from './opencv';

export interface HealthReport {
  /** True when the instance can serve images: the NAS root is readable. */
  ok: boolean;
  version: string;
  /** Loaded lazily by the first facedetect, or by FC's Initializer. */
  openCvLoaded: boolean;
  nas: { root: string; readable: boolean; error?: string };
  resultStore: { enabled: boolean; dir: string; maxMb: number; writable: boolean; error?: string };
}

async function accessible(file: string, mode: number): Promise<{ ok: boolean; error?: string }> {
  try {
    await access(file, mode);
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
}

/** IMAGE_RESULT_STORE_MB (default 1024); 0 turns the store off. A store dir not yet made is writable if its parent is. */
export async function resultStoreHealth(root: string, env: NodeJS.ProcessEnv): Promise<HealthReport['resultStore']> {
  const maxMb = resultStoreCapFromEnv(env) / (1024 * 1024);
  const dir = path.join(root, RESULTS_DIR);
  const existing = await accessible(dir, constants.F_OK);
  const writable = await accessible(existing.ok ? dir : root, constants.W_OK | constants.X_OK);
  return { enabled: maxMb > 0, dir, maxMb, writable: writable.ok, ...(writable.error ? { error: writable.error } : {}) };
}

export async function nasHealth(root: string): Promise<HealthReport['nas']> {
  const readable = await accessible(root, constants.R_OK | constants.X_OK);
  return { root, readable: readable.ok, ...(readable.error ? { error: readable.error } : {}) };
}

export async function healthReport(root: string, env: NodeJS.ProcessEnv): Promise<HealthReport> {
  const [nas, resultStore] = await Promise.all([nasHealth(root), resultStoreHealth(root, env)]);
  return { ok: nas.readable, version, openCvLoaded: openCvLoaded(), nas, resultStore };
}
