import { ROOT, test } from '../lib/fixtures.mjs';
import { hubModels } from '../tests/hub-models.mjs';

test('add a model from the hub by repo id (progress, dropped connection resumed), reload with the hub stopped, train 1 epoch on 3 classes, export/import; the same folder via the folder picker; Remove', async ({ context, log }) => {
  await hubModels({ context, root: ROOT, log });
});
