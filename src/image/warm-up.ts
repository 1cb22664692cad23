import sharp from 'sharp';
import { PROPOSAL_CASCADE, VERIFY_CASCADE, withClassifier } from './cascade';

/**
 * Loads what the first requests of an instance would otherwise wait for: OpenCV with one classifier of each face cascade in the
 * pool (about 0.3 s), and libvips' PNG and JPEG codecs. FC runs it once per instance through the Initializer hook;
 * the local runtime runs it before it listens.
 */
export async function warmUp(): Promise<void> {
  await withClassifier(PROPOSAL_CASCADE, async () => undefined);
  await withClassifier(VERIFY_CASCADE, async () => undefined);
  const probe = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
  await sharp(probe).jpeg().toBuffer();
}
