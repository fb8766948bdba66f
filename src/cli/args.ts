/** Command-line reading shared by the CLIs: strict options with a usage line, and checked numbers. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];

/**
 * Runs `body` on the parsed options; returns null (after printing why, or the usage for
 * `--help`) when the command line is unusable. `body` throws to reject a value.
 */
export function readCommandLine<O extends Options, T>(argv: string[], options: O, usage: string, body: (v: Values<O>) => T): T | null {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return null;
  }
  try {
    let values: Values<O>;
    try {
      values = parseArgs({ args: argv, options, strict: true }).values;
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${usage}`);
    }
    return body(values);
  } catch (e) {
    console.error((e as Error).message);
    return null;
  }
}
/** A number option, if given: finite, at least `min` (default: above 0), an integer when `int`. @throws naming the option. */
export function numberOption(s: string | undefined, name: string, opts: { int?: boolean; min?: number } = {}): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n < (opts.min ?? Number.MIN_VALUE) || (opts.int && !Number.isInteger(n))) {
    throw new Error(`--${name} must be a${opts.int ? 'n integer' : ' number'} ${opts.min !== undefined ? `≥ ${opts.min}` : '> 0'}, got ${s}`);
  }
  return n;
}

/** The tfjs backends the CLIs can run on (see node-backend.ts). */
export const NODE_BACKENDS = ['wasm', 'cpu', 'webgpu'] as const;
export type NodeBackend = (typeof NODE_BACKENDS)[number];

/** `name` as a NodeBackend. @throws naming the flag and the choices. */
export function parseNodeBackend(name: string, flag = '--backend'): NodeBackend {
  if (!(NODE_BACKENDS as readonly string[]).includes(name)) throw new Error(`${flag} must be one of ${NODE_BACKENDS.join(', ')}, got ${name}`);
  return name as NodeBackend;
}

/**
 * Strategy options from `name=value` assignments (`--opt`, `--variant`): a value is a boolean,
 * a number, or else a string. @throws naming the flag on one without a name.
 */
export function optionAssignments(list: readonly string[], flag: string): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`${flag} needs name=value, got '${kv}'`);
    const v = kv.slice(eq + 1);
    const n = Number(v);
    out[kv.slice(0, eq)] = v === 'true' ? true : v === 'false' ? false : v.trim() !== '' && Number.isFinite(n) ? n : v;
  }
  return out;
}
