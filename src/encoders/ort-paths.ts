/** Where the app serves ORT's runtime files from (shared by the Vite plugin and the browser code). */
export const ORT_ASSET_DIR = 'ort/';
