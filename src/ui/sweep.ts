/** The weighting sweep's text field: "1:1, 1:5, 1:10" → intensity:gradient ratios. */

/**
 * Parses ratios separated by commas or semicolons; a part that is not two non-negative
 * numbers around a colon is left out (the button stays disabled when none is left).
 */
export function parseRatios(text: string): [number, number][] {
  return text.split(/[,;]/).map((p) => p.trim()).filter(Boolean).flatMap((p) => {
    const parts = p.split(':');
    if (parts.length !== 2 || parts.some((x) => x.trim() === '')) return [];
    const [a, b] = parts.map(Number);
    return Number.isFinite(a) && Number.isFinite(b) && a >= 0 && b >= 0 ? [[a, b] as [number, number]] : [];
  });
}
