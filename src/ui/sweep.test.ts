import { describe, expect, it } from 'vitest';
import { parseRatios } from './sweep';

describe('parseRatios', () => {
  it('reads ratios separated by commas or semicolons, with spaces and decimals', () => {
    expect(parseRatios('1:1, 1:5, 1:10')).toEqual([[1, 1], [1, 5], [1, 10]]);
    expect(parseRatios(' 0.5 : 2 ; 3:0 ')).toEqual([[0.5, 2], [3, 0]]);
  });

  it('leaves out what is not two non-negative numbers around one colon', () => {
    expect(parseRatios('1:-1, a:b, 2, 1:2:3, :4, 5:, , 7:8')).toEqual([[7, 8]]);
    expect(parseRatios('')).toEqual([]);
  });
});
