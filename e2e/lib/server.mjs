import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// E2E_PORT lets several checkouts run their browser tests side by side.
export const PORT = Number(process.env.E2E_PORT ?? 4173);
export const BASE_URL = `http://localhost:${PORT}/`;

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The e2e run tests a production build; it builds only when there is none, and warns when it looks stale. */
export function ensureBuild(root) {
  const built = join(root, 'dist/index.html');
  if (existsSync(built)) {
    const age = statSync(built).mtimeMs;
    const stale = ['src', 'public'].filter((d) => newestMtime(join(root, d)) > age);
    if (stale.length) console.log(`e2e: note: ${stale.join(' and ')} changed after the last build; run npm run build to test the changes`);
    return;
  }
  console.log('e2e: dist/ is missing, running npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

async function waitForServer(url, child, timeoutMs = 30_000) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`vite preview exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vite preview did not answer at ${url} within ${timeoutMs} ms`);
}

async function answers(url) {
  try {
    await fetch(url);
    return true;
  } catch {
    return false;
  }
}

async function spawnPreview(root) {
  // With --strictPort a busy port makes our server exit, and the tests would silently run against
  // whatever else is listening there.
  if (await answers(BASE_URL)) throw new Error(`Port ${PORT} is already in use (another vite preview?); stop it and rerun`);
  const child = spawn(join(root, 'node_modules/.bin/vite'), ['preview', '--port', String(PORT), '--strictPort'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
  });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  try {
    await waitForServer(BASE_URL, child);
  } catch (e) {
    child.kill();
    throw new Error(`${e.message}\n${child.output}`);
  }
  return child;
}

/**
 * Starts `vite preview` on the fixed port. `ensure()` restarts it if it has died (other work on the
 * same machine can end it mid-run), saying so; `stop()` ends it.
 */
export async function startPreview(root) {
  let child = await spawnPreview(root);
  return {
    async ensure() {
      if (child.exitCode === null && child.signalCode === null) return;
      console.log(`e2e: vite preview had stopped (${child.exitCode ?? child.signalCode}); restarting it\n${child.output.trim()}`);
      child = await spawnPreview(root);
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill();
      }),
  };
}
