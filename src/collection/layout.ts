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
/**
 * Detected faces, `faces/<sha256>.json` (src/collection/faces-store.ts). Under the NAS root rather than a crawl's
 * rootDir: the key is the image's content, the image function serves any image under the root and does not know
 * which crawl (if any) saved it, and one store per NAS shares each answer between crawls that saved the same image.
 */
export const FACES_DIR = 'faces';
