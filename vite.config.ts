import { defaultClientConditions, defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { modelListPlugin } from './src/models/vite-plugin.ts';
import { ortAssetsPlugin } from './src/encoders/ort-assets-plugin.ts';

// COOP/COEP make the page cross-origin isolated, so onnxruntime-web's WASM backend can use threads.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react(), modelListPlugin(), ortAssetsPlugin(isolation)],
  // ORT's "extern wasm" build loads its runtime from env.wasm.wasmPaths (our ort/ folder) instead of
  // carrying an embedded copy and a second, hashed copy of the 27 MB .wasm into assets/.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // Rolldown's PLUGIN_TIMINGS note fires whenever a busy machine slows the build's JavaScript callbacks (emptying
    // dist/ of the 27 MB ORT runtime, say): it says nothing about the code, and `npm start` must print no warnings.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
