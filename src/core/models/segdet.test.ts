import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../cli/node-backend';
import { HEAT_BIAS_INIT, segdet } from './segdet';
import { disposeParams } from './model-def';

describe('segdet (S)', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  it('initialises the heat-map logits to the CenterNet prior and the rest of det to 0', () => {
    const params = segdet.init(1);
    expect(Array.from(params['det/bias'].dataSync()).map((v) => Math.round(v * 100) / 100))
      .toEqual([HEAT_BIAS_INIT, HEAT_BIAS_INIT, HEAT_BIAS_INIT, 0, 0, 0, 0]);
    disposeParams(params);
  });

  it('has the documented size: 1 309 232 parameters, 6 212 MACs per pixel', () => {
    const params = segdet.init(0);
    expect(segdet.paramCount(params)).toBe(1_309_232);
    expect(segdet.macs(480, 640)).toBe(6212 * 480 * 640);
    disposeParams(params);
  });
});
