/**
 * Dev server for the bench page only: the app's config would bring React and the model
 * list, which the benchmark does not need. The repository's public/ is served so the
 * page reads the bundled model exactly where the app does.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { ortAssetsPlugin } from '../src/encoders/ort-assets-plugin.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));

// Cross-origin isolation lets ORT's WASM EP use threads, as in the app, so the WASM numbers match it.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('./page', import.meta.url)),
  publicDir: `${repo}public`,
  plugins: [ortAssetsPlugin(isolation)],
  server: { headers: isolation, fs: { allow: [repo] }, hmr: false },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  logLevel: 'warn',
});
