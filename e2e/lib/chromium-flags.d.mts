export declare const CHROMIUM_PATH: string;
export declare const HEADLESS: string[];
export declare const WEBGPU: string[];
export declare const SWIFTSHADER: string[];
export declare const TEST_ARGS: string[];
export declare const FAKE_CAMERA: string[];
