import { describe, expect, it } from 'vitest';
import * as messages from './messages';

describe('the worker protocol', () => {
  it('holds types only: nothing of it exists at run time (no constant of the core passes through it)', () => {
    expect(Object.keys(messages)).toEqual([]);
  });
});
