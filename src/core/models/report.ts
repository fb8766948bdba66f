/**
 * Size report of every registered model: parameter count and multiply-adds at a reference
 * resolution (640×480, the MSRS frame), for the README, model cards and the CLI.
 */
import { disposeParams, type ModelDef } from './model-def';
import { MODELS } from './registry';

/** One row of the size report. */
export interface ModelSizeRow {
  name: string;
  /** Scalar parameters. */
  params: number;
  /** Multiply-adds of all convolutions for one `width`×`height` input. */
  macs: number;
  /** `macs` divided by the number of input pixels. */
  macsPerPixel: number;
  /** Input side multiple the model needs. */
  stride: number;
}

/**
 * Parameter count and MACs of every model in the registry at `width`×`height` (default
 * 640×480). Creates and frees a throw-away parameter set per model.
 */
export function modelSizeReport(width = 640, height = 480): ModelSizeRow[] {
  return Object.values(MODELS).map((m) => {
    const model = m as ModelDef<unknown>;
    const params = model.init(0);
    const row: ModelSizeRow = {
      name: model.name,
      params: model.paramCount(params),
      macs: model.macs(height, width),
      macsPerPixel: model.macs(height, width) / (width * height),
      stride: model.stride,
    };
    disposeParams(params);
    return row;
  });
}

/** The report as a Markdown table. */
export function formatModelSizeReport(rows: ModelSizeRow[], width = 640, height = 480): string {
  const lines = [
    `| model | parameters | MACs at ${width}×${height} | MACs/pixel | stride |`,
    '|---|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.params.toLocaleString('en-US')} | ${(r.macs / 1e9).toFixed(3)} G | ${r.macsPerPixel.toLocaleString('en-US')} | ${r.stride} |`);
  }
  return lines.join('\n');
}
