/**
 * The one list of Chromium flags used by the browser tests (e2e/), vitest's browser project and the bench.
 * The first group is what every headless run here must pass; WEBGPU turns WebGPU on (Vulkan on Linux).
 * SWIFTSHADER pins Chromium to SwiftShader's software Vulkan: the tests want the same adapter on every
 * machine, while the bench leaves it out so that a real GPU is used where there is one.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const HEADLESS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const WEBGPU = ['--enable-unsafe-webgpu', '--enable-features=Vulkan'];

export const SWIFTSHADER = ['--use-angle=swiftshader', '--use-vulkan=swiftshader'];

/** A synthetic camera (a moving test pattern) that needs no permission prompt: the e2e tests use the webcam path. */
export const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** Tests: headless, WebGPU, always on SwiftShader (checked: requestAdapter() is non-null here with exactly these). */
export const TEST_ARGS = [...HEADLESS, ...WEBGPU, ...SWIFTSHADER];
