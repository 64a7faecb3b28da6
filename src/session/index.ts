/**
 * The one interface the app's stores use to keep the session: IndexedDB (db.ts), project files (project-file.ts),
 * the settings in the URL hash (url-hash.ts) and the browser's storage (storage.ts). React components never touch
 * any of them directly.
 */
export * as sessionDb from './db';
export * from './project-file';
export * from './records';
export * from './runs';
export * from './storage';
export * from './url-hash';
