import { test } from '../lib/fixtures.mjs';
import { trainData } from '../tests/train-data.mjs';

test('train data: add and name classes, drop files (picture, text, huge), paste, delete, duplicate name, unusable files named, webcam prediction, overflowing lr fails and resumes', async ({ context, log }) => {
  await trainData({ context, log });
});
