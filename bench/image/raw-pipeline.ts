/**
 * The raw pipeline, the floor of the image bench: the same src/image calls the handler makes for an image
 * (read the file, then decode, apply the action and encode), in-process, with no HTTP, no FC event and no HTML page.
 * The result cache is switched off (IMAGE_CACHE_MB=0 before render is loaded) and no face store is given, so every
 * call does the work.
 */
import path from 'node:path';
import type { HttpRequest } from '../../src/fc/http-event';
import type { ImageRequest } from '../../src/image/request';
import type { BenchAction } from './actions';

export interface RawPipeline {
  /** Renders the action on the image as the handler would; resolves when the encoded bytes exist. */
  run(file: string, action: BenchAction): Promise<void>;
}

export async function createRawPipeline(root: string): Promise<RawPipeline> {
  process.env.IMAGE_CACHE_MB = '0';
  const { renderImage } = await import('../../src/image/render');
  const { readImageFile } = await import('../../src/image/source');
  const { parseRequestParams, toImageRequest } = await import('../../src/image/request');
  const { imageLimitsFromEnv } = await import('../../src/image/limits');
  const limits = imageLimitsFromEnv(process.env);

  const imageRequest = (query: Record<string, string>): ImageRequest => {
    const req: HttpRequest = { method: 'GET', path: '/', rawPath: '/', query, headers: {}, body: Buffer.alloc(0), requestId: 'bench' };
    const params = parseRequestParams(req);
    const parsed = params.ok ? toImageRequest(params.value) : params;
    if (!parsed.ok) throw new Error(`bench request ${JSON.stringify(query)} refused: ${parsed.error.message}`);
    return parsed.value;
  };
  return {
    async run(file, action) {
      const source = await readImageFile(path.join(root, file), limits);
      if (!source.ok) throw new Error(`${file}: ${source.error.message}`);
      const rendered = await renderImage(source.value, imageRequest(action.query), limits, undefined);
      if (!rendered.ok) throw new Error(`${file}: ${rendered.error.message}`);
    },
  };
}
