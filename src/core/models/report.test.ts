import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing';
import { formatModelSizeReport, modelSizeReport } from './report';

describe('model size report', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  it('lists every model with its size at 640x480', () => {
    const rows = modelSizeReport();
    expect(rows.map((r) => r.name)).toEqual(['fusion', 'discriminator', 'segdet', 'lossGenerator']);
    const f = rows[0];
    expect(f.macsPerPixel).toBe(3808);
    expect(f.macs).toBe(3808 * 640 * 480);
    const table = formatModelSizeReport(rows);
    expect(table).toContain('| fusion | 30,491 | 1.170 G | 3,808 | 4 |');
    expect(table.split('\n')).toHaveLength(6);
  });
});
