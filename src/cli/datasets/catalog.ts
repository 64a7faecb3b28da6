/**
 * CoOp's 11 datasets and ImageNet's four variants as its DATASETS.md and datasets/*.py lay them out, with the
 * hand-written zero-shot template each uses (trainers/zsclip.py CUSTOM_TEMPLATES). Source: KaiyangZhou/CoOp at
 * commit ff61507 (DATASETS.md, datasets/*.py, trainers/zsclip.py).
 */

export type Layout =
  /** split_zhou_*.json under the dataset folder; impaths relative to `images` (or the dataset folder). */
  | { kind: 'split'; splitFile: string; images: string | null }
  /** FGVC-Aircraft: variants.txt and images_variant_{train,val,test}.txt; images/<id>.jpg. */
  | { kind: 'fgvc' }
  /** ImageNet: images/train/<wnid>/ and images/val/<wnid>/, labels by sorted folder, names from classnames.txt. */
  | { kind: 'imagenet' }
  /** ImageNet-V2: <images>/<0..999>/, label = folder number, names from classnames.txt's order. */
  | { kind: 'imagenet_v2'; images: string }
  /** Sketch, -A, -R: <images>/<wnid>/, labels by sorted folder (200 of them for -A and -R). */
  | { kind: 'imagenet_folders'; images: string };

export interface DatasetInfo {
  /** The name on the command line (CoOp's configs/datasets/<name>.yaml). */
  name: string;
  /** Dassl's DATASET.NAME (the key of CUSTOM_TEMPLATES). */
  dasslName: string;
  /** The folder under $DATA. */
  folder: string;
  layout: Layout;
  /** Section of CoOp's DATASETS.md that says where the files come from. */
  section: string;
  /** What to fetch, in words (DATASETS.md). */
  fetch: string;
  /** CUSTOM_TEMPLATES[dasslName]. */
  template: string;
  /** Evaluation only (ImageNet's variants): the whole folder is the test set. */
  testOnly: boolean;
}

const drive = (file: string, section: string) => `${file} (CoOp's DATASETS.md, section ${section}, links it on Google Drive)`;

export const DATASETS: readonly DatasetInfo[] = [
  { name: 'imagenet', dasslName: 'ImageNet', folder: 'imagenet', layout: { kind: 'imagenet' }, section: 'ImageNet', fetch: `the ILSVRC-2012 train and val images into imagenet/images/{train,val}/<wnid>/, and ${drive('classnames.txt', 'ImageNet')}`, template: 'a photo of a {}.', testOnly: false },
  { name: 'caltech101', dasslName: 'Caltech101', folder: 'caltech-101', layout: { kind: 'split', splitFile: 'split_zhou_Caltech101.json', images: '101_ObjectCategories' }, section: 'Caltech101', fetch: `101_ObjectCategories.tar.gz extracted in caltech-101/, and ${drive('split_zhou_Caltech101.json', 'Caltech101')}`, template: 'a photo of a {}.', testOnly: false },
  { name: 'oxford_pets', dasslName: 'OxfordPets', folder: 'oxford_pets', layout: { kind: 'split', splitFile: 'split_zhou_OxfordPets.json', images: 'images' }, section: 'OxfordPets', fetch: `the Oxford-IIIT Pets images.tar.gz and annotations.tar.gz, and ${drive('split_zhou_OxfordPets.json', 'OxfordPets')}`, template: 'a photo of a {}, a type of pet.', testOnly: false },
  { name: 'stanford_cars', dasslName: 'StanfordCars', folder: 'stanford_cars', layout: { kind: 'split', splitFile: 'split_zhou_StanfordCars.json', images: null }, section: 'StanfordCars', fetch: `cars_train.tgz, cars_test.tgz, car_devkit.tgz and cars_test_annos_withlabels.mat, and ${drive('split_zhou_StanfordCars.json', 'StanfordCars')}`, template: 'a photo of a {}.', testOnly: false },
  { name: 'oxford_flowers', dasslName: 'OxfordFlowers', folder: 'oxford_flowers', layout: { kind: 'split', splitFile: 'split_zhou_OxfordFlowers.json', images: 'jpg' }, section: 'Flowers102', fetch: `102flowers.tgz (jpg/) and imagelabels.mat, cat_to_name.json, and ${drive('split_zhou_OxfordFlowers.json', 'Flowers102')}`, template: 'a photo of a {}, a type of flower.', testOnly: false },
  { name: 'food101', dasslName: 'Food101', folder: 'food-101', layout: { kind: 'split', splitFile: 'split_zhou_Food101.json', images: 'images' }, section: 'Food101', fetch: `food-101.tar.gz extracted in $DATA, and ${drive('split_zhou_Food101.json', 'Food101')}`, template: 'a photo of {}, a type of food.', testOnly: false },
  { name: 'fgvc_aircraft', dasslName: 'FGVCAircraft', folder: 'fgvc_aircraft', layout: { kind: 'fgvc' }, section: 'FGVCAircraft', fetch: 'fgvc-aircraft-2013b.tar.gz, keeping only its data/ folder, renamed fgvc_aircraft/ (it holds images/, variants.txt and images_variant_*.txt)', template: 'a photo of a {}, a type of aircraft.', testOnly: false },
  { name: 'sun397', dasslName: 'SUN397', folder: 'sun397', layout: { kind: 'split', splitFile: 'split_zhou_SUN397.json', images: 'SUN397' }, section: 'SUN397', fetch: `SUN397.tar.gz and Partitions.zip extracted in sun397/, and ${drive('split_zhou_SUN397.json', 'SUN397')}`, template: 'a photo of a {}.', testOnly: false },
  { name: 'dtd', dasslName: 'DescribableTextures', folder: 'dtd', layout: { kind: 'split', splitFile: 'split_zhou_DescribableTextures.json', images: 'images' }, section: 'DTD', fetch: `dtd-r1.0.1.tar.gz extracted in $DATA, and ${drive('split_zhou_DescribableTextures.json', 'DTD')}`, template: '{} texture.', testOnly: false },
  { name: 'eurosat', dasslName: 'EuroSAT', folder: 'eurosat', layout: { kind: 'split', splitFile: 'split_zhou_EuroSAT.json', images: '2750' }, section: 'EuroSAT', fetch: `EuroSAT.zip extracted in eurosat/ (2750/), and ${drive('split_zhou_EuroSAT.json', 'EuroSAT')}`, template: 'a centered satellite photo of {}.', testOnly: false },
  { name: 'ucf101', dasslName: 'UCF101', folder: 'ucf101', layout: { kind: 'split', splitFile: 'split_zhou_UCF101.json', images: 'UCF-101-midframes' }, section: 'UCF101', fetch: `${drive('UCF-101-midframes.zip', 'UCF101')} extracted in ucf101/, and ${drive('split_zhou_UCF101.json', 'UCF101')}`, template: 'a photo of a person doing {}.', testOnly: false },
  { name: 'imagenet_v2', dasslName: 'ImageNetV2', folder: 'imagenetv2', layout: { kind: 'imagenet_v2', images: 'imagenetv2-matched-frequency-format-val' }, section: 'ImageNetV2', fetch: "imagenetv2-matched-frequency.tar.gz extracted in imagenetv2/, and ImageNet's classnames.txt copied beside it", template: 'a photo of a {}.', testOnly: true },
  { name: 'imagenet_sketch', dasslName: 'ImageNetSketch', folder: 'imagenet-sketch', layout: { kind: 'imagenet_folders', images: 'images' }, section: 'ImageNet-Sketch', fetch: "ImageNet-Sketch extracted to imagenet-sketch/images/, and ImageNet's classnames.txt copied beside it", template: 'a photo of a {}.', testOnly: true },
  { name: 'imagenet_a', dasslName: 'ImageNetA', folder: 'imagenet-adversarial', layout: { kind: 'imagenet_folders', images: 'imagenet-a' }, section: 'ImageNet-A', fetch: "ImageNet-A (natural-adv-examples) extracted to imagenet-adversarial/imagenet-a/, and ImageNet's classnames.txt copied beside it", template: 'a photo of a {}.', testOnly: true },
  { name: 'imagenet_r', dasslName: 'ImageNetR', folder: 'imagenet-rendition', layout: { kind: 'imagenet_folders', images: 'imagenet-r' }, section: 'ImageNet-R', fetch: "ImageNet-R extracted to imagenet-rendition/imagenet-r/, and ImageNet's classnames.txt copied beside it", template: 'a photo of a {}.', testOnly: true },
];

export const DATASET_NAMES = DATASETS.map((d) => d.name);

export function datasetInfo(name: string): DatasetInfo {
  const d = DATASETS.find((x) => x.name === name);
  if (!d) throw new Error(`unknown dataset '${name}': use one of ${DATASET_NAMES.join(', ')}`);
  return d;
}
