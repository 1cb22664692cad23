/**
 * The NAS layout that both functions share, under a crawl's rootDir: the crawler writes it, the image function
 * reads it. The README lists the same names.
 */
export const IMAGE_DIR = 'img';
export const MANIFEST_FILE = 'manifest.jsonl';
/** Byte offsets of the manifest's lines, in save order (src/collection/manifest-index.ts). */
export const INDEX_FILE = 'manifest.idx';
/** Snapshot, journal and lease files. */
export const STATE_DIR = 'crawl-state';
/** Temp files (same file system as img/, renamed into place when whole); emptied at the start of each run. */
export const TEMP_DIR = 'crawl-state/tmp';
/** The image function's shared result store (src/collection/result-store.ts); hidden, so never listed or served. */
export const RESULTS_DIR = '.results';
