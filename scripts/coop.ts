/** Entry point of `npm run coop -- train|eval|predict …` (src/cli/main.ts). */
import { main } from '../src/cli/main';

main(process.argv.slice(2)).then((code) => process.exit(code));
