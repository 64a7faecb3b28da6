/** Moved to src/coop/prompt-tokens.ts (the app, the worker and the command line share it). */
export { promptTokens } from '../../coop/prompt-tokens';
