/**
 * The official prompts and training recipes, as data with their source (KaiyangZhou/CoOp at ff61507):
 * - zero-shot: CUSTOM_TEMPLATES per dataset (trainers/zsclip.py; catalog.ts keeps each dataset's);
 * - prompt ensembling: ZeroshotCLIP2's IMAGENET_TEMPLATES_SELECT (trainers/imagenet_templates.py), plus the
 *   dataset's own template for every dataset but ImageNet;
 * - CoOp's epochs by shots: configs/trainers/CoOp/*_ep50 (1 shot), *_ep100 (2 and 4), the 200-epoch base config
 *   (8 and 16), per COOP.md; ImageNet 50 for every shot count; batch 32, lr 0.002, cosine with one warm-up epoch
 *   at 1e-5 (vit_b16.yaml);
 * - base-to-new and cross-dataset runs of CoOp: 16 shots with vit_b16_ctxv1 (200 epochs; ImageNet vit_b16_ep50_ctxv1,
 *   50 epochs), context initialised from "a photo of a" (scripts/cocoop/*.sh, CTX_INIT in the ctxv1 configs).
 */
import type { DatasetInfo } from './catalog';

/** trainers/imagenet_templates.py IMAGENET_TEMPLATES_SELECT: the 7 templates CoOp's ensembling baseline uses. */
export const IMAGENET_TEMPLATES_SELECT: readonly string[] = [
  'itap of a {}.',
  'a bad photo of the {}.',
  'a origami {}.',
  'a photo of the large {}.',
  'a {} in a video game.',
  'art of the {}.',
  'a photo of the small {}.',
];

/** ZeroshotCLIP2's templates for a dataset. */
export function ensembleTemplates(info: DatasetInfo): string[] {
  return info.name === 'imagenet' ? [...IMAGENET_TEMPLATES_SELECT] : [...IMAGENET_TEMPLATES_SELECT, info.template];
}

export interface Recipe {
  epochs: number;
  batchSize: number;
  lr: number;
  /** The config file of CoOp's that sets it. */
  config: string;
}

/** CoOp's few-shot recipe for a dataset and shot count. */
export function coopRecipe(dataset: string, shots: number): Recipe {
  if (dataset === 'imagenet') return { epochs: 50, batchSize: 32, lr: 0.002, config: 'configs/trainers/CoOp/vit_b16_ep50.yaml (ImageNet: *_ep50 for every shot count, COOP.md)' };
  if (shots <= 1) return { epochs: 50, batchSize: 32, lr: 0.002, config: 'configs/trainers/CoOp/vit_b16_ep50.yaml (1 shot)' };
  if (shots <= 4) return { epochs: 100, batchSize: 32, lr: 0.002, config: 'configs/trainers/CoOp/vit_b16_ep100.yaml (2 and 4 shots)' };
  return { epochs: 200, batchSize: 32, lr: 0.002, config: 'configs/trainers/CoOp/vit_b16.yaml (8 and 16 shots)' };
}

/** The context init CoCoOp's scripts give CoOp in base-to-new, cross-dataset and domain-generalization runs. */
export const CTXV1_INIT = 'a photo of a';
