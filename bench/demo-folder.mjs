// The bundled demo (public/samples/index.json) as an image-folder tree DIR/<split>/<class>/<file>, the layout
// `coop train --data` reads. Plain JavaScript so a bare machine's node runs it without tsx (bench/gpu-device.sh).
// --small: train/ whole and one test image per class (the first in index order), no shifted/: the ViT-B/16
// stand-in's timing run, whose random weights make accuracy meaningless, so its features are few to pre-encode.
//   node bench/demo-folder.mjs DIR [--small]
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const small = args.includes('--small');
const [dir] = args.filter((a) => a !== '--small');
if (!dir) {
  console.error('usage: node bench/demo-folder.mjs DIR');
  process.exit(2);
}
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'public', 'samples');
const idx = JSON.parse(fs.readFileSync(path.join(root, 'index.json'), 'utf8'));
let n = 0;
for (const [split, items] of Object.entries(idx.splits)) {
  if (small && split !== 'train' && split !== 'test') continue;
  const seen = new Set();
  for (const it of items) {
    if (small && split === 'test') {
      if (seen.has(it.label)) continue;
      seen.add(it.label);
    }
    const cls = idx.classes[it.label];
    const name = typeof cls === 'string' ? cls : cls.name;
    const to = path.join(dir, split, name);
    fs.mkdirSync(to, { recursive: true });
    fs.copyFileSync(path.join(root, it.file), path.join(to, path.basename(it.file)));
    n++;
  }
}
console.log(`demo-folder: ${n} images of ${idx.classes.length} classes under ${dir}`);
