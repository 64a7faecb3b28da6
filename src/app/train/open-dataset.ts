/**
 * "Open dataset…": a picked folder (CoOp's layout or an image-folder tree) into class cards, through the same
 * reader and Dassl-exact sampler as the command line (src/cli/datasets/listing.ts): the official few-shot subset
 * of (shots, seed) becomes each card's training images, the test split its test images, other splits extra sets.
 */
import { openListing } from '../../cli/datasets/listing';
import { cardImage } from '../store/train-store';
import type { ExtraSet } from '../store/train-store';
import { newId, type ClassCard } from './class-cards';

export interface OpenedDataset {
  name: string;
  cards: ClassCard[];
  extraSets: ExtraSet[];
  summary: string;
  notes: string[];
}

export async function openDatasetFiles(files: readonly File[], shots: number, seed: number): Promise<OpenedDataset> {
  const listed = files.map((f) => ({ path: f.webkitRelativePath || f.name, text: () => f.text(), blob: f as Blob }));
  const o = await openListing(listed, shots, seed);
  const cards: ClassCard[] = o.classNames.map((name) => ({ id: newId(), name, images: [] }));
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  for (const i of o.train) cards[i.label].images.push(cardImage(i.file.blob, base(i.file.path), 'train'));
  for (const i of o.test) cards[i.label].images.push(cardImage(i.file.blob, base(i.file.path), 'test'));
  const extraSets: ExtraSet[] = Object.entries(o.extra).map(([name, items]) => ({
    name,
    items: items.map((i) => ({ id: newId(), name: base(i.file.path), blob: i.file.blob, label: o.classNames[i.label] })),
  }));
  const summary = `${o.name}: ${o.classNames.length} classes, ${o.train.length} training images (${shots} shot${shots === 1 ? '' : 's'}, seed ${seed}${o.name === 'image folder' ? '' : ", Dassl's draw"}), ${o.test.length} test images`;
  return { name: o.name, cards, extraSets, summary, notes: o.notes };
}
