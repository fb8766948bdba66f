/** Strategy options: checking plain data against a strategy's defaults and rules. */


/** An option value: options are flat and JSON-serialisable. */
export type OptionValue = number | string | boolean;

/** Allowed values of string options and closed ranges `[min, max]` of numeric ones. */
export interface OptionRules<T> {
  choices?: Partial<Record<keyof T, readonly string[]>>;
  bounds?: Partial<Record<keyof T, readonly [number, number]>>;
}

/**
 * Fills `given` over `defaults`, checking names, types, choices and bounds (plain data arrives
 * from the worker and the command line). Numbers must be finite and ≥ 0 unless bounded.
 * @throws naming the strategy, the option and what is allowed.
 */
export function resolveOptions<T extends Record<string, OptionValue>>(
  strategy: string, defaults: T, given: Partial<Record<string, unknown>> = {}, rules: OptionRules<T> = {},
): T {
  const out: Record<string, OptionValue> = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (!(k in defaults)) {
      throw new Error(`${strategy}: unknown option '${k}' (options: ${Object.keys(defaults).join(', ')})`);
    }
    const want = typeof defaults[k];
    if (typeof v !== want) throw new Error(`${strategy}: option '${k}' must be a ${want}, got ${JSON.stringify(v)}`);
    if (want === 'number' && !Number.isFinite(v as number)) throw new Error(`${strategy}: option '${k}' must be finite`);
    const range = rules.bounds?.[k as keyof T];
    if (range && ((v as number) < range[0] || (v as number) > range[1])) {
      throw new Error(`${strategy}: option '${k}' must be within [${range[0]}, ${range[1]}], got ${String(v)}`);
    }
    if (want === 'number' && (v as number) < 0) throw new Error(`${strategy}: option '${k}' must be ≥ 0, got ${String(v)}`);
    const allowed = rules.choices?.[k as keyof T];
    if (allowed && !allowed.includes(v as string)) {
      throw new Error(`${strategy}: option '${k}' must be one of ${allowed.join(', ')}, got '${String(v)}'`);
    }
    out[k] = v as OptionValue;
  }
  return out as T;
}

/** Allowed values of the `classWeights` option. */
export const CLASS_WEIGHT_CHOICES = ['msrs', 'uniform'] as const;
