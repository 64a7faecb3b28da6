import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH } from './chromium-flags.mjs';

/** Chromium pids of running workers (one empty file each, removed when the worker closes its browser). */
export const PID_DIR = join(dirname(fileURLToPath(import.meta.url)), '../out/chromium-pids');

/**
 * A worker that crashed or was killed never ran its browser fixture's teardown, and its Chromium (whose GPU
 * process can stay busy for minutes on SwiftShader) would outlive the run: kill what is still listed, by pid,
 * after checking the pid is still that Chromium (pids are reused).
 */
export default function globalTeardown() {
  if (!existsSync(PID_DIR)) return;
  for (const name of readdirSync(PID_DIR)) {
    const pid = Number(name);
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // already gone
    }
    if (cmdline.startsWith(CHROMIUM_PATH) && cmdline.includes('coop-e2e-')) {
      process.kill(pid, 'SIGKILL');
      console.log(`e2e: killed Chromium ${pid}, left behind by a worker that did not finish`);
    }
    rmSync(join(PID_DIR, name), { force: true });
  }
}
