/**
 * WebGPU in Node through Dawn (the npm `webgpu` package), for tests, the bench and `coop:grad`.
 *
 * The `GPU` object that `create()` returns owns Dawn's instance, and a device does not keep it alive:
 * once the GC collects an unreferenced `GPU`, Dawn's instance is destroyed while its devices still
 * run, and the next event processing locks a freed mutex (glibc futex / pthread assertions or a
 * std::system_error, at a random moment since it depends on the GC). So the instance lives in this
 * module for as long as the process does, or until `releaseDawnGpu()` after its devices are destroyed.
 *
 * The import specifier is a variable so a browser bundle that reaches this file never tries to
 * resolve the native addon.
 */
let instance: GPU | undefined;
let instanceOptions: string | undefined;

export async function dawnGpu(options: string[] = []): Promise<GPU> {
  const key = options.join('\n');
  if (instance) {
    if (key !== instanceOptions) throw new Error(`Dawn is already created with options [${instanceOptions}]; cannot recreate it with [${options.join(' ')}]`);
    return instance;
  }
  const spec = 'webgpu';
  const { create, globals } = (await import(/* @vite-ignore */ spec)) as { create: (o: string[]) => GPU; globals: object };
  Object.assign(globalThis, globals);
  instance = create(options);
  instanceOptions = key;
  return instance;
}

/** Drops the instance so Node can exit; call only after destroying every device made from it. */
export function releaseDawnGpu(): void {
  instance = undefined;
  instanceOptions = undefined;
}
