/** The CoOp trainer's pure-TypeScript core: no DOM, no GPU (the engine supplies loss and gradient). */
export * from './settings';
export * from './random';
export * from './context-init';
export * from './sgd';
export * from './schedule';
export * from './sampler';
export * from './fewshot';
export * from './results-table';
export * from './augment';
export * from './metrics';
export * from './trainer';
export * from './lbfgs';
export * from './linear-probe';
export * from './zero-shot';
export * from './nearest-tokens';
export * from './prompt-file';
