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

/** Entry point: returns the process exit code (0 ok, 1 fatal error, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  if (argv.some((a) => a.startsWith('--choose-adapt-k'))) {
    const k = parseAdaptKArgs(argv);
    if (!k) return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
    try {
      await runAdaptK(k);
      return 0;
    } catch (e) {
      console.error(`finetune --choose-adapt-k: ${(e as Error).message}`);
      return 1;
    }
  }
  if (argv.includes('--compare')) {
    const c = parseCompareArgs(argv, { heldOut: SPEC_DEFAULTS.heldOutFraction });
    if (!c) return 2;
    try {
      await runCompare(c);
      return 0;
    } catch (e) {
      console.error(`finetune --compare: ${(e as Error).message}`);
      return 1;
    }
  }
  const o = parseFinetuneArgs(argv);
  if (!o) return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  try {
    await runFinetune(o);
    return 0;
  } catch (e) {
    console.error(`finetune: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
