/**
 * `npx tsx bench/adapter-check.ts [--out FILE]`: which adapter Dawn finds in this process, as JSON, and in words
 * whether it is a real GPU or only a software one (SwiftShader, llvmpipe, WARP), or none at all. Used by
 * bench/gpu-check.sh before anything is timed; it sets no Vulkan variables, so it sees what the system offers.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dawnGpu } from '../src/engine/gpu/dawn-node';

const outIdx = process.argv.indexOf('--out');
const out = outIdx > 0 ? process.argv[outIdx + 1] : undefined;
const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const icds = icdDirs.flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => `${d}/${f}`) : []));
const result: Record<string, unknown> = { vk_icd_filenames: process.env.VK_ICD_FILENAMES ?? null, icd_files: icds };
let verdict: string;
try {
  const gpu = await dawnGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    verdict = `NO ADAPTER: Dawn found no WebGPU adapter (Vulkan ICD files: ${icds.join(', ') || 'none'}; is libvulkan.so.1 installed and the GPU driver's ICD present?)`;
  } else {
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ');
    const software = !!info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|warp|software/i.test(name);
    Object.assign(result, {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      is_fallback_adapter: !!info.isFallbackAdapter,
      software,
      features: [...adapter.features].map(String).sort(),
      limits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup },
    });
    verdict = software ? `SOFTWARE ONLY: Dawn found only a software adapter (${name}); every GPU number below is the CPU's` : `GPU: ${name}`;
  }
} catch (e) {
  verdict = `NO ADAPTER: Dawn could not start (${(e as Error).message})`;
}
result.verdict = verdict;
console.log(verdict);
if (out) writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
process.exit(0);
