/** The op library: CPU twins (`*Cpu`), WGSL encoders (`encode*`) and FLOP counts. */
export * from './tensor';
export * from './flops';
export { matmulCpu, type MatmulShape } from './matmul/cpu';
export { encodeMatmul, type MatmulBuffers, type MatmulOptions } from './matmul/gpu';
export { MATMUL_TILE, MATMUL_TILE_K } from './matmul/wgsl';
export { linearForwardCpu, linearBackwardCpu } from './linear/cpu';
export { encodeLinearForward, encodeLinearBackward, type LinearDims } from './linear/gpu';
export { layerNormForwardCpu, layerNormBackwardCpu, LAYER_NORM_EPS } from './layernorm/cpu';
export { encodeLayerNormForward, encodeLayerNormBackward } from './layernorm/gpu';
export { quickGeluForwardCpu, quickGeluBackwardCpu, QUICK_GELU_ALPHA } from './quickgelu/cpu';
export { encodeQuickGeluForward, encodeQuickGeluBackward } from './quickgelu/gpu';
export { addCpu, addInPlaceCpu } from './add/cpu';
export { encodeAdd, encodeAddInPlace } from './add/gpu';
export { embeddingForwardCpu, type EmbeddingDims } from './embedding/cpu';
export { encodeEmbeddingForward } from './embedding/gpu';
export { gatherRowsForwardCpu, gatherRowsBackwardCpu } from './gather/cpu';
export { encodeGatherRowsForward, encodeGatherRowsBackward, type GatherDims } from './gather/gpu';
export { l2NormalizeForwardCpu, l2NormalizeBackwardCpu, L2_NORM_MIN } from './l2norm/cpu';
export { encodeL2NormalizeForward, encodeL2NormalizeBackward } from './l2norm/gpu';
export { cosineCEForwardCpu, cosineCEBackwardCpu, type CosineCEDims } from './cosine-ce/cpu';
export { encodeCosineCEForward, encodeCosineCEBackward } from './cosine-ce/gpu';
export { attentionForwardCpu, attentionBackwardCpu, type AttentionDims, type AttentionInputs, type AttentionGrads } from './attention/cpu';
export {
  encodeAttentionForward,
  encodeAttentionBackward,
  attentionScratchFloats,
  type AttentionForwardBuffers,
  type AttentionBackwardBuffers,
} from './attention/gpu';
export { ATTN_MAX_DH, ATTN_MAX_KEYS } from './attention/wgsl';
export { deepTokensReplaceCpu, deepTokensCollectCpu, type DeepTokenDims } from './deep-tokens/cpu';
export { encodeDeepTokensReplace, encodeDeepTokensCollect } from './deep-tokens/gpu';
