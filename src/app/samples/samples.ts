/** public/samples/index.json: a labelled demo set in train / test / shifted splits. */
export interface SampleIndex {
  name?: string;
  description?: string;
  classes: string[];
  splits: Record<string, Array<{ file: string; label: number | string }>>;
}

export interface LabelledFile {
  blob: File;
  name: string;
  label: string;
}

const root = () => `${import.meta.env.BASE_URL}samples/`;

/** The demo set's index, or null when the app ships without one. */
export async function fetchSampleIndex(): Promise<SampleIndex | null> {
  const response = await fetch(`${root()}index.json`);
  if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return null;
  const index = (await response.json()) as SampleIndex;
  if (!Array.isArray(index?.classes) || typeof index.splits !== 'object') {
    throw new Error('public/samples/index.json has no "classes" list or "splits" object');
  }
  return index;
}

/** Downloads one split's images with their class names (labels may be indices into `classes`). */
export async function loadSampleSplit(index: SampleIndex, split: string): Promise<LabelledFile[]> {
  const items = index.splits[split] ?? [];
  return Promise.all(
    items.map(async ({ file, label }) => {
      const response = await fetch(root() + file);
      if (!response.ok) throw new Error(`public/samples/${file} is missing (HTTP ${response.status})`);
      const name = typeof label === 'number' ? index.classes[label] : label;
      if (name === undefined) throw new Error(`public/samples/index.json: ${file} has label ${label}, not a class`);
      // A File, so decoding errors can name it like a dropped file.
      return { blob: new File([await response.blob()], file), name: file, label: name };
    }),
  );
}
