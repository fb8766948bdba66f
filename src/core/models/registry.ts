/** Every model of the project by registry name (also the folder name under `models/`). */
import { discriminator } from './discriminator';
import { fusion } from './fusion';
import { lossGenerator } from './loss-generator';
import { segdet } from './segdet';

/** The four models: F, D, S, G. */
export const MODELS = { fusion, discriminator, segdet, lossGenerator } as const;

/** A registry name: 'fusion' | 'discriminator' | 'segdet' | 'lossGenerator'. */
export type ModelName = keyof typeof MODELS;

/** Registry names in pipeline order. */
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];
