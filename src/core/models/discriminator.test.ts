import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing';
import { discriminator } from './discriminator';
import { disposeParams } from './model-def';

describe('discriminator (D)', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  it('has the documented size: 24 961 parameters, 236.25 MACs per pixel', () => {
    const params = discriminator.init(0);
    expect(discriminator.paramCount(params)).toBe(24_961);
    expect(discriminator.macs(480, 640)).toBe(236.25 * 480 * 640);
    disposeParams(params);
  });
});
