import { describe, expect, it } from 'vitest';
import { holdOutBlocks } from './dataset';

describe('holdOutBlocks', () => {
  const stems = [
    ...Array.from({ length: 23 }, (_, i) => `${String(4 * i).padStart(5, '0')}N`),
    ...Array.from({ length: 17 }, (_, i) => `${String(1000 + 4 * i).padStart(5, '0')}D`),
  ];

  it('holds out whole blocks of consecutive frames, day and night apart, disjoint from training', () => {
    const { train, validation } = holdOutBlocks(stems, 0.2, 7);
    expect(validation.length).toBeGreaterThanOrEqual(8);
    expect(validation.length).toBeLessThan(8 + 5);
    expect([...train, ...validation].sort()).toEqual([...stems].sort());
    for (const suffix of ['N', 'D']) {
      const own = stems.filter((s) => s.endsWith(suffix)).sort();
      for (let b = 0; b < own.length; b += 5) {
        const block = own.slice(b, b + 5);
        const held = block.filter((s) => validation.includes(s)).length;
        expect([0, block.length]).toContain(held);
      }
    }
  });

  it('is seeded, and holds out nothing at fraction 0', () => {
    expect(holdOutBlocks(stems, 0.2, 7)).toEqual(holdOutBlocks(stems, 0.2, 7));
    expect(holdOutBlocks(stems, 0.2, 7).validation).not.toEqual(holdOutBlocks(stems, 0.2, 8).validation);
    expect(holdOutBlocks(stems, 0, 7)).toEqual({ train: stems, validation: [] });
  });
});
