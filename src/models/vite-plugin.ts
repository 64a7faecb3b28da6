import { existsSync } from 'node:fs';
import { join, normalize, resolve } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { scanModelsDir } from './scan.ts';

const INDEX_FILE = 'models/index.json';

/**
 * Answers 404 for a model file that is not on disk. Without it the dev and preview servers' SPA
 * fallback would answer index.html with status 200, and the loader could not say "missing (HTTP 404)".
 */
function missingModelFile(modelsDir: string, base: string): Connect.NextHandleFunction {
  const prefix = `${base}models/`;
  return (req, res, next) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0]);
    if (!path.startsWith(prefix) || path === `${base}${INDEX_FILE}`) return next();
    const rel = normalize(path.slice(prefix.length));
    if (rel.startsWith('..') || existsSync(join(modelsDir, rel))) return next();
    res.statusCode = 404;
    res.setHeader('Content-Type', 'text/plain');
    res.end(`${path} not found`);
  };
}

/**
 * Serves `models/index.json` (the folders found in public/models/) in dev and preview, and writes it
 * into the build, so dropping a model folder in is all it takes to offer it.
 */
export function modelListPlugin(): Plugin {
  let modelsDir = '';
  let base = '/';
  const serve = (server: { middlewares: Connect.Server }) => {
    server.middlewares.use(missingModelFile(modelsDir, base));
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
    configurePreviewServer(server) {
      const built = resolve(server.config.root, server.config.build.outDir, 'models');
      server.middlewares.use(missingModelFile(built, base));
    },
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: INDEX_FILE,
        source: JSON.stringify(scanModelsDir(modelsDir), null, 1),
      });
    },
  };
}
