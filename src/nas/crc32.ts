/**
 * CRC-32 (IEEE, as zlib and gzip compute it), the snapshot checksum. Node has `zlib.crc32` only from 20.15, and FC's
 * nodejs20 runtime is older (20.10/20.11): there a table-driven version gives the same value, so snapshots written
 * by either can be checked by the other.
 */
import zlib from 'node:zlib';

const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

export function crc32Portable(data: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

export const crc32: (data: Uint8Array) => number = native ?? crc32Portable;
