/** The `fuse` command line: its options and their parsing. */
import { numberOption, parseNodeBackend, readCommandLine, type NodeBackend } from './args';
import { DEFAULT_TASK_SCALE, type AspectPolicy, type PipelineModels } from '../core/pipeline';
import { isPeerId, PEER_IDS, type PeerId } from '../core/models/peers';

function taskScale(v: string | undefined): number | undefined {
  const x = numberOption(v, 'task-scale');
  if (x !== undefined && !(x > 0 && x <= 1)) throw new Error(`--task-scale must be above 0 and at most 1, got ${v}`);
  return x;
}

/** Options of {@link runFuse} (the parsed command line). */
export interface FuseOptions {
  ir: string;
  vi: string;
  out: string;
  labels?: string;
  boxes?: string;
  /**
   * A folder of another method's fused images (grey or colour, matched to the pairs by stem):
   * scored in place of F's output, S on each of them (`npm run score`).
   */
  fused?: string;
  /**
   * A published network (`--method seafusion|tardal|ifcnn`) fuses each pair in place of F, from
   * its converted weights; S and the reports as for F.
   */
  method?: PeerId;
  /**
   * With `method`: a folder of the method's own outputs (by stem) that each of its images is
   * compared with (PSNR, largest difference, share within 3 levels; `OUT/agreement.json`).
   */
  reference?: string;
  /** Folder with `fusion/` and `segdet/` model folders (default `<repo>/models`). */
  models?: string;
  /**
   * Parameters of F and S to use instead of loading them from `models` (e.g. a fine-tuned F);
   * they stay owned by the caller (not disposed).
   */
  loaded?: PipelineModels;
  /** Process only the first `limit` pairs (sorted by stem). */
  limit?: number;
  backend?: NodeBackend;
  maxSide?: number;
  /** A pair whose aspect ratios differ is refused (default, reported as skipped), stretched or centre-cropped. */
  aspect?: AspectPolicy;
  /** S's input size relative to the processed image (default: the pipeline's). */
  taskScale?: number;
  /** Minimum detection score written (default 0.05, as used for mAP). */
  scoreThreshold?: number;
  /** Skip the nine fusion metrics (they cost ~0.5 s per 640x480 pair). */
  metrics?: boolean;
  /** Also score the pixel-wise max and mean fusions of each pair (reference baselines). */
  baselines?: boolean;
  /** Write the evaluation into `<models>/fusion/card.json` and `<models>/segdet/card.json`. */
  updateCards?: boolean;
  /** Progress and report lines (default: console.log). */
  log?: (line: string) => void;
}

export const SCORE_USAGE = `usage: npm run score -- --fused DIR --ir DIR --vi DIR --out DIR [--labels DIR] [--boxes FILE]
       [--models DIR] [--backend wasm|cpu|webgpu] [--max-side N] [--score-threshold S] [--baselines]
  Scores another method's fused images (grey or colour, matched to the pairs by stem) as \`fuse\` scores F's:
  the nine fusion metrics on their luma, S (segmentation, detection) on each image, the same reports.`;

const USAGE = `usage: npm run fuse -- --ir DIR --vi DIR --out DIR [--labels DIR] [--boxes FILE]
       [--method f|${PEER_IDS.join('|')}] (a published network in place of F) [--reference DIR] (its own outputs, to compare with)
       [--models DIR] [--backend wasm|cpu|webgpu] [--max-side N] [--aspect refuse|stretch|crop] [--score-threshold S] [--no-metrics]
       [--task-scale F] (S's input size relative to the image, 0-1; default ${DEFAULT_TASK_SCALE})
       [--baselines] (also score pixel max/mean fusion)  [--update-cards] (write the evaluation into the model cards)`;

/**
 * Parses the command line; returns null (after printing why) when it is unusable. `score`: the
 * `npm run score` command line, which needs `--fused`.
 */
export function parseFuseArgs(argv: string[], score = false): FuseOptions | null {
  const usage = score ? SCORE_USAGE : USAGE;
  return readCommandLine(argv, {
    ir: { type: 'string' }, vi: { type: 'string' }, out: { type: 'string' }, fused: { type: 'string' },
    method: { type: 'string' }, reference: { type: 'string' },
    labels: { type: 'string' }, boxes: { type: 'string' }, models: { type: 'string' },
    backend: { type: 'string' }, 'max-side': { type: 'string' }, aspect: { type: 'string' }, 'score-threshold': { type: 'string' },
    'task-scale': { type: 'string' }, 'no-metrics': { type: 'boolean' }, baselines: { type: 'boolean' }, 'update-cards': { type: 'boolean' },
  }, usage, (v) => {
    if (!v.ir || !v.vi || !v.out) throw new Error(`--ir, --vi and --out are required\n${usage}`);
    if (score && !v.fused) throw new Error(`--fused is required\n${usage}`);
    if (v.method !== undefined && v.method !== 'f' && !isPeerId(v.method)) throw new Error(`--method must be f or one of ${PEER_IDS.join(', ')}, got ${v.method}`);
    if (v.reference !== undefined && (v.method === undefined || v.method === 'f')) throw new Error('--reference needs --method with a published network');
    if (score && v.method !== undefined) throw new Error('score takes --fused images, not --method');
    if (v.aspect !== undefined && !['refuse', 'stretch', 'crop'].includes(v.aspect)) throw new Error(`--aspect must be refuse, stretch or crop, got ${v.aspect}`);
    return {
      ir: v.ir, vi: v.vi, out: v.out, labels: v.labels, boxes: v.boxes, models: v.models, ...(v.fused ? { fused: v.fused } : {}),
      ...(v.method && v.method !== 'f' ? { method: v.method as PeerId } : {}), ...(v.reference ? { reference: v.reference } : {}),
      backend: v.backend === undefined ? undefined : parseNodeBackend(v.backend),
      maxSide: numberOption(v['max-side'], 'max-side'),
      aspect: v.aspect as AspectPolicy | undefined,
      scoreThreshold: numberOption(v['score-threshold'], 'score-threshold'),
      taskScale: taskScale(v['task-scale']),
      metrics: !v['no-metrics'],
      baselines: v.baselines,
      updateCards: v['update-cards'],
    };
  });
}
