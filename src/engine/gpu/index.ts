export * from './device';
export * from './allocator';
export * from './pipelines';
export * from './uniforms';
export * from './readback';
export * from './dispatch';
