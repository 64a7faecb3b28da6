import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { ORT_ASSET_DIR } from './ort-paths.ts';

/**
 * The `onnxruntime-web/webgpu` build runs both the WebGPU and the WASM EP on this one runtime
 * (the asyncify variant); the other variants in dist/ belong to other builds and are not shipped.
 */
export const ORT_RUNTIME_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

function ortDistDir(root: string): string {
  const require = createRequire(join(root, 'package.json'));
  // The package exports each runtime file but not package.json, so locate dist/ through one of them.
  return dirname(require.resolve(`onnxruntime-web/${ORT_RUNTIME_FILES[1]}`));
}

const CONTENT_TYPES: Record<string, string> = { mjs: 'text/javascript', wasm: 'application/wasm' };

/**
 * Serves ORT's wasm runtime from our own origin (no CDN) in dev and copies it into the build.
 * The isolation headers are set here too: the runtime's .mjs is also the script of its pthread
 * workers, and a worker without COEP would not be cross-origin isolated.
 */
export function ortAssetsPlugin(headers: Record<string, string>): Plugin {
  let dist = '';
  let base = '/';
  return {
    name: 'coop:ort-assets',
    configResolved(config) {
      dist = ortDistDir(config.root);
      base = config.base;
    },
    configureServer(server) {
      server.middlewares.use(((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        const name = path.startsWith(base + ORT_ASSET_DIR) ? path.slice((base + ORT_ASSET_DIR).length) : '';
        if (!ORT_RUNTIME_FILES.includes(name)) return next();
        for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
        res.setHeader('Content-Type', CONTENT_TYPES[name.split('.').pop()!]);
        res.end(readFileSync(join(dist, name)));
      }) as Connect.NextHandleFunction);
    },
    generateBundle() {
      for (const name of ORT_RUNTIME_FILES) {
        this.emitFile({ type: 'asset', fileName: ORT_ASSET_DIR + name, source: readFileSync(join(dist, name)) });
      }
    },
  };
}
