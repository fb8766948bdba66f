/**
 * `npm run score -- --fused DIR --ir DIR --vi DIR --out DIR [--labels DIR] [--boxes FILE] ...`:
 * another method's fused images, matched to the pairs by stem, scored as `fuse` scores F's
 * (the same metrics, S on each image, the same reports). See `fuse-args.ts` for the options.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from './fuse';

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2), 'score').then((code) => process.exit(code));
}
