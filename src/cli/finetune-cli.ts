/**
 * Entry point of `npm run finetune`: one fine-tune (finetune.ts), with `--compare` the
 * strategies side by side (compare.ts), or with `--choose-adapt-k` the choice of K for
 * task-adapted scoring on the training split (adapt-k.ts).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SPEC_DEFAULTS } from '../core/strategies/registry';
import { parseFinetuneArgs, runFinetune } from './finetune';
import { parseCompareArgs, runCompare } from './compare';
import { parseAdaptKArgs, runAdaptK } from './adapt-k';

/**
 * Parses with `parse` and runs: 0 when it ran, 1 when it failed (said on stderr under `what`),
 * 2 for an unusable command line (0 for `--help`).
 */
async function runMode<O>(argv: string[], what: string, parse: () => O | null, run: (o: O) => Promise<unknown>): Promise<number> {
  const o = parse();
  if (!o) return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  try {
    await run(o);
    return 0;
  } catch (e) {
    console.error(`${what}: ${(e as Error).message}`);
    return 1;
  }
}

/** Entry point: returns the process exit code (0 ok, 1 fatal error, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  if (argv.some((a) => a.startsWith('--choose-adapt-k'))) return runMode(argv, 'finetune --choose-adapt-k', () => parseAdaptKArgs(argv), runAdaptK);
  if (argv.includes('--compare')) {
    return runMode(argv, 'finetune --compare', () => parseCompareArgs(argv, { heldOut: SPEC_DEFAULTS.heldOutFraction }), runCompare);
  }
  return runMode(argv, 'finetune', () => parseFinetuneArgs(argv), runFinetune);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
