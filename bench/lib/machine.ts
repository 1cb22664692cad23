/** The machine details that head every bench table, so figures are read against the hardware that produced them. */
import os from 'node:os';
import sharp from 'sharp';
import { openCv } from '../../src/image/opencv';

export function machineHeader(extra: readonly string[] = []): string {
  const cpus = os.cpus();
  const cv = openCv();
  const lines = [
    `- CPU: ${cpus[0]?.model.trim() ?? 'unknown'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`,
    `- Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), OpenCV ${cv.version.major}.${cv.version.minor}.${cv.version.revision} (@u4/opencv4nodejs)`,
    ...extra.map((e) => `- ${e}`),
    `- Run at ${new Date().toISOString()}`,
  ];
  return lines.join('\n');
}
