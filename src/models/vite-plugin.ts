import { resolve } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { scanModelsDir } from './scan';

const INDEX_FILE = 'models/index.json';

/**
 * Serves `models/index.json` (the folders found in public/models/) in dev and preview, and writes it
 * into the build, so dropping a model folder in is all it takes to offer it.
 */
export function modelListPlugin(): Plugin {
  let modelsDir = '';
  let base = '/';
  const serve = (server: { middlewares: Connect.Server }) => {
    server.middlewares.use((req, res, next) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== `${base}${INDEX_FILE}`) return next();
      // Rescanned per request: cheap, and a model dropped in while the server runs shows up on reload.
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Cache-Control', 'no-store');
      res.end(JSON.stringify(scanModelsDir(modelsDir)));
    });
  };
  return {
    name: 'coop:model-list',
    configResolved(config) {
      modelsDir = resolve(config.publicDir || resolve(config.root, 'public'), 'models');
      base = config.base;
    },
    configureServer: serve,
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: INDEX_FILE,
        source: JSON.stringify(scanModelsDir(modelsDir), null, 1),
      });
    },
  };
}
