/** Reads a NAS folder the way an auditor would: which images are there, are they whole, is anything half-written. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function sha256File(file: string): string {
  return sha256(fs.readFileSync(file));
}

/** Every regular file below dir, as paths relative to it. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const IMAGE_NAME = /^([0-9a-f]{64})\.[a-z0-9]+$/;
const TEMPORARY_NAME = /(\.tmp|\.temp|\.part|\.partial|\.download|~)($|[.-])/i;

export interface ImageAudit {
  /** sha256 values of the complete images in ROOT/img, whose names match their content. */
  found: Set<string>;
  /** Files in img/ that are not a complete <sha256>.<ext>, and temporary files anywhere: left-overs of a cut write. */
  partial: string[];
}

export function auditNas(root: string): ImageAudit {
  const found = new Set<string>();
  const partial: string[] = [];
  for (const rel of listFiles(root)) {
    const name = path.basename(rel);
    if (path.dirname(rel) === 'img') {
      const match = IMAGE_NAME.exec(name);
      if (match && sha256File(path.join(root, rel)) === match[1]) found.add(match[1]);
      else partial.push(rel);
    } else if (TEMPORARY_NAME.test(name)) partial.push(rel);
  }
  return { found, partial };
}

export interface FileMark {
  bytes: number;
  sha256: string;
}

/** Size and hash of every file below dir, to prove later that a failed run lost or rewrote nothing. */
export function snapshot(dir: string): Map<string, FileMark> {
  return new Map(listFiles(dir).map((rel) => {
    const data = fs.readFileSync(path.join(dir, rel));
    return [rel, { bytes: data.length, sha256: sha256(data) }];
  }));
}

/** Files of `before` that are gone or whose old content is no longer there (appending to a journal is fine). */
export function lostOrRewritten(dir: string, before: Map<string, FileMark>): string[] {
  return [...before]
    .filter(([rel, mark]) => {
      const file = path.join(dir, rel);
      const kept = (candidate: string) => {
        const head = fs.readFileSync(candidate).subarray(0, mark.bytes);
        return head.length === mark.bytes && sha256(head) === mark.sha256;
      };
      return !(fs.existsSync(file) ? [file] : sealedAs(file)).some(kept);
    })
    .map(([rel]) => rel);
}

/** A journal segment the next holder sealed: renamed to `<name>.<bytes>` with the same content (src/nas/state-store.ts). */
function sealedAs(file: string): string[] {
  const base = path.basename(file);
  if (!/^journal\.\d+\.\d+$/.test(base) || !fs.existsSync(path.dirname(file))) return [];
  return fs
    .readdirSync(path.dirname(file))
    .filter((name) => name.startsWith(`${base}.`) && /^\d+$/.test(name.slice(base.length + 1)))
    .map((name) => path.join(path.dirname(file), name));
}
