/**
 * The ports of published fusion networks against their authors' code: each peer's output on two
 * MSRS crops, next to what the method's own script saved for the same crops
 * (`test-fixtures/peers/<id>/`, made by `reference_outputs.py` from VIF-Benchmark's code and weights).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { useBackend } from '../node-backend';
import { readImage } from '../image-io';
import { DEFAULT_MODELS_DIR } from '../fuse';
import { loadPeerFrom } from '../weights-fs';
import { PEER_IDS, PEERS, runPeer } from '../../core/models/peers';
import { imageAgreement } from '../../core/metrics/image-agreement';

const FIXTURES = path.resolve(__dirname, '../../../test-fixtures/peers');
const STEMS = ['00200D', '00964N'];

beforeAll(async () => {
  await useBackend('wasm');
});

describe.each(PEER_IDS)('peer %s', (id) => {
  it('reproduces its own code on two crops (at most 2 levels apart, PSNR above 55 dB), leaving no tensor behind', async () => {
    const params = await loadPeerFrom(DEFAULT_MODELS_DIR, id);
    const before = tf.memory().numTensors;
    for (const stem of STEMS) {
      const [ir, vi, ref] = await Promise.all(['ir', 'vi', id].map((d) => readImage(path.join(FIXTURES, d, `${stem}.png`))));
      const out = await runPeer(PEERS[id], params, ir, vi);
      expect([out.width, out.height, out.channels]).toEqual([vi.width, vi.height, 3]);
      const a = imageAgreement(out, ref);
      expect(a.maxAbs, `${id} ${stem}`).toBeLessThanOrEqual(2);
      expect(a.psnr, `${id} ${stem}`).toBeGreaterThan(55);
      // Small tiles (each with the network's reach as margin) give the whole image's output.
      const tiled = await runPeer(PEERS[id], params, ir, vi, 48);
      expect(imageAgreement(tiled, out).maxAbs, `${id} ${stem} in 48-px tiles`).toBeLessThanOrEqual(1);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(params));
  }, 60_000);
});

describe('peer weights', () => {
  it('refuses a folder whose weights do not fit the network, naming it', async () => {
    await expect(loadPeerFrom(path.join(FIXTURES, 'no-such-models'), 'tardal')).rejects.toThrow(/peer-tardal.*cannot read/);
  });

  it('counts multiply-adds from the layer table (per pixel at 640x480)', () => {
    const px = 640 * 480;
    // TarDAL: encoder, three dense layers (32 out of 32, 64, 96 in), the head 128→128→64→32→1.
    expect(PEERS.tardal.macs(480, 640) / px).toBe(9 * (2 * 32 + 32 * 32 + 64 * 32 + 96 * 32 + 128 * 128 + 128 * 64 + 64 * 32 + 32));
    // IFCNN: conv1 and conv2 on each image, conv3 and conv4 once.
    expect(PEERS.ifcnn.macs(480, 640) / px).toBe(7 * 7 * 3 * 64 * 2 + 9 * 64 * 64 * 2 + 9 * 64 * 64 + 64 * 3);
  });
});
