import { test } from '../lib/fixtures.mjs';
import { trainPage } from '../tests/train-page.mjs';

test('train page: one screen at 1280 × 800, plain status line, prompts that move, keyboard and axe (no serious or critical violations) before, during and after a run and in the Add-a-model dialog', async ({ context, log }) => {
  await trainPage({ context, log });
});
