import { afterEach, describe, expect, it, vi } from 'vitest';
import { numberOption, readCommandLine } from './args';

describe('CLI arguments', () => {
  afterEach(() => vi.restoreAllMocks());

  it('numberOption checks range and integrality, naming the option', () => {
    expect(numberOption(undefined, 'steps')).toBeUndefined();
    expect(numberOption('3', 'steps', { int: true, min: 1 })).toBe(3);
    expect(numberOption('0', 'seed', { int: true, min: 0 })).toBe(0);
    expect(() => numberOption('0', 'lr')).toThrow('--lr must be a number > 0, got 0');
    expect(() => numberOption('2.5', 'steps', { int: true, min: 1 })).toThrow('--steps must be an integer ≥ 1, got 2.5');
    expect(() => numberOption('x', 'crop', { min: 32 })).toThrow('--crop');
  });

  it('readCommandLine gives the body typed values, or null with the reason and the usage', () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const opts = { n: { type: 'string', default: '2' }, flag: { type: 'boolean' } } as const;
    expect(readCommandLine(['--flag'], opts, 'USAGE', (v) => ({ n: Number(v.n), flag: v.flag }))).toEqual({ n: 2, flag: true });
    expect(readCommandLine(['--nope'], opts, 'USAGE', () => 1)).toBeNull();
    expect(err.mock.calls.at(-1)?.[0]).toMatch(/nope[\s\S]*USAGE/);
    expect(readCommandLine(['--n', '0'], opts, 'USAGE', (v) => numberOption(v.n, 'n'))).toBeNull();
    expect(err.mock.calls.at(-1)?.[0]).toBe('--n must be a number > 0, got 0');
    expect(readCommandLine(['-h'], opts, 'USAGE', () => 1)).toBeNull();
    expect(log).toHaveBeenCalledWith('USAGE');
  });
});
