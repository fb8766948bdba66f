import { describe, expect, it } from 'vitest';
import { createStrategy } from '../core/strategies/registry';
import { strategyList } from './trainer';
import { fusion } from '../core/models/fusion';
import { segdet } from '../core/models/segdet';
import { lossGenerator } from '../core/models/loss-generator';
import { discriminator } from '../core/models/discriminator';
import { disposeParams } from '../core/models/model-def';
import { useBackend } from '../cli/node-backend';

describe('strategyList (what the UI picker shows)', () => {
  it('lists fixed, bdl and td with their defaults and a choice list for every string option', () => {
    const list = strategyList();
    expect(list.map((s) => s.name)).toEqual(['fixed', 'bdl', 'td']);
    for (const s of list) {
      for (const [k, v] of Object.entries(s.defaultOptions)) {
        if (typeof v === 'string') expect(s.choices[k], `${s.name}.${k}`).toContain(v);
      }
    }
  });

  it('offers only choices the strategies accept', async () => {
    await useBackend('cpu');
    const models = { fusion: fusion.init(0), segdet: segdet.init(0), lossGenerator: lossGenerator.init(0), discriminator: discriminator.init(0) };
    try {
      for (const s of strategyList()) {
        for (const [k, choices] of Object.entries(s.choices)) {
          for (const c of choices) createStrategy(s.name, models, { [k]: c }).dispose();
        }
      }
    } finally {
      for (const p of Object.values(models)) disposeParams(p);
    }
  });
});
