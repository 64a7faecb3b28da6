/**
 * "Load demo": public/samples/ into class cards (train → training images, test → each card's test images,
 * shifted → a second test set), and public/samples/baselines.json, the PyTorch numbers for the same task
 * (tools/toy-clip/demo.py) shown beside the browser's.
 */
import { fetchSampleIndex, loadSampleSplit } from '../samples/samples';
import { newId, type ClassCard } from './class-cards';
import type { ExtraSet } from '../store/train-store';
import { cardImage } from '../store/train-store';
import type { ReferenceIdentity } from './reference-match';

export interface ReferenceNumbers extends ReferenceIdentity {
  views?: number;
  seeds?: number;
  zero_shot_template?: string;
  /** split → method → percent, or shots → percent / {mean, std}. */
  results: Record<string, Record<string, number | Record<string, number | { mean: number; std: number }>>>;
}

export interface Demo {
  name: string;
  description: string;
  cards: ClassCard[];
  extraSets: ExtraSet[];
}

export async function loadDemo(shots?: number): Promise<Demo> {
  const index = await fetchSampleIndex();
  if (!index) throw new Error('This build has no demo set (public/samples/index.json is missing).');
  const cards: ClassCard[] = index.classes.map((name) => ({ id: newId(), name, images: [] }));
  const byName = new Map(cards.map((c) => [c.name, c]));
  const [train, test, shifted] = await Promise.all(['train', 'test', 'shifted'].map((s) => loadSampleSplit(index, s)));
  const taken = new Map<string, number>();
  for (const f of train) {
    const n = taken.get(f.label) ?? 0;
    if (shots !== undefined && n >= shots) continue;
    taken.set(f.label, n + 1);
    byName.get(f.label)?.images.push(cardImage(f.blob, f.name, 'train'));
  }
  for (const f of test) byName.get(f.label)?.images.push(cardImage(f.blob, f.name, 'test'));
  const extraSets: ExtraSet[] = shifted.length
    ? [{ name: 'shifted', items: shifted.map((f) => ({ id: newId(), name: f.name, blob: f.blob, label: f.label })) }]
    : [];
  return { name: index.name ?? 'Demo', description: index.description ?? '', cards, extraSets };
}

export async function fetchReferenceNumbers(): Promise<ReferenceNumbers | null> {
  try {
    const r = await fetch(`${import.meta.env.BASE_URL}samples/baselines.json`);
    if (!r.ok || !(r.headers.get('content-type') ?? '').includes('json')) return null;
    const json = (await r.json()) as ReferenceNumbers;
    return json && typeof json.results === 'object' ? json : null;
  } catch {
    return null;
  }
}
