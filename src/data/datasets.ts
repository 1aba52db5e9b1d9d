/**
 * The datasets topdown knows: their shapes, sizes, where their files live in a data directory, and the
 * official download sources with the SHA-256 of every official file.
 */
import { TopdownUsageError } from '../core/errors.js';

/** The names of the supported datasets, in display order. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10', 'cifar100'] as const;

/** A supported dataset name. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Input shape of one example: [channels, height, width]. */
export type InputShape = readonly [channels: number, height: number, width: number];

/** The on-disk format of a dataset's files. */
export type DatasetFormat = 'idx' | 'cifar10' | 'cifar100';

/** One official file to download: where from (mirrors in order) and its SHA-256. */
export interface OfficialFile {
  /** File name, as stored under the dataset's download folder. */
  readonly file: string;
  /** SHA-256 of the official bytes, lowercase hex. */
  readonly sha256: string;
  /** Size in bytes, when known (used for progress when the server sends no length). */
  readonly bytes?: number;
  /** Download addresses, tried in order. */
  readonly urls: readonly string[];
}

/** The official archive of a CIFAR dataset and where its members live inside it. */
export interface ArchiveSpec {
  /** The archive's file name, e.g. `cifar-10-binary.tar.gz`. */
  readonly file: string;
  /** The folder inside the archive that holds the data files, e.g. `cifar-10-batches-bin`. */
  readonly memberDir: string;
  /** Folders of the data directory searched for the archive, in order (`''` is the data directory). */
  readonly folders: readonly string[];
}

/** Everything topdown knows about one dataset. */
export interface DatasetSpec {
  /** The dataset's name. */
  readonly name: DatasetName;
  /** Human-readable title. */
  readonly title: string;
  /** [channels, height, width] of one example. */
  readonly shape: InputShape;
  /** Values per example: channels x height x width. */
  readonly features: number;
  /** Number of (fine) classes. */
  readonly classes: number;
  /** Number of coarse classes (CIFAR-100 only). */
  readonly coarseClasses?: number;
  /** Official number of training examples. */
  readonly trainCount: number;
  /** Official number of test examples. */
  readonly testCount: number;
  /** File format. */
  readonly format: DatasetFormat;
  /**
   * Training files, without any `.gz` suffix: for IDX `[images, labels]`, for CIFAR the batches in order.
   */
  readonly trainFiles: readonly string[];
  /** Test files, as {@link DatasetSpec.trainFiles}. */
  readonly testFiles: readonly string[];
  /** Folders of the data directory searched, in order, for the loose files. */
  readonly folders: readonly string[];
  /** The official archive, for datasets distributed as one. */
  readonly archive?: ArchiveSpec;
  /** The folder of the data directory that `topdown data download` writes into. */
  readonly downloadFolder: string;
  /** The official files to download. */
  readonly downloads: readonly OfficialFile[];
  /** Class names, indexed by label. */
  readonly labelNames: readonly string[];
  /** Coarse class names (CIFAR-100 only), indexed by coarse label. */
  readonly coarseLabelNames?: readonly string[];
}

const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const MNIST_MIRRORS = [
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
];
const FASHION_MIRRORS = ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'];

function idxDownloads(
  mirrors: readonly string[],
  table: Record<keyof typeof MNIST_FILES, readonly [sha256: string, bytes: number]>,
): OfficialFile[] {
  return (Object.keys(MNIST_FILES) as (keyof typeof MNIST_FILES)[]).map((key) => {
    const file = `${MNIST_FILES[key]}.gz`;
    const [sha256, bytes] = table[key];
    return { file, sha256, bytes, urls: mirrors.map((m) => m + file) };
  });
}

const CIFAR10_LABELS = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

const CIFAR100_COARSE_LABELS = [
  'aquatic_mammals',
  'fish',
  'flowers',
  'food_containers',
  'fruit_and_vegetables',
  'household_electrical_devices',
  'household_furniture',
  'insects',
  'large_carnivores',
  'large_man-made_outdoor_things',
  'large_natural_outdoor_scenes',
  'large_omnivores_and_herbivores',
  'medium_mammals',
  'non-insect_invertebrates',
  'people',
  'reptiles',
  'small_mammals',
  'trees',
  'vehicles_1',
  'vehicles_2',
];

const CIFAR100_FINE_LABELS = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel ' +
  'can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur ' +
  'dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion ' +
  'lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree ' +
  'pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea ' +
  'seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table ' +
  'tank telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm'
).split(' ');

/** The supported datasets, by name. */
export const DATASETS: { readonly [K in DatasetName]: DatasetSpec & { readonly name: K } } = {
  mnist: {
    name: 'mnist',
    title: 'MNIST handwritten digits',
    shape: [1, 28, 28],
    features: 784,
    classes: 10,
    trainCount: 60000,
    testCount: 10000,
    format: 'idx',
    trainFiles: [MNIST_FILES.trainImages, MNIST_FILES.trainLabels],
    testFiles: [MNIST_FILES.testImages, MNIST_FILES.testLabels],
    folders: ['mnist'],
    downloadFolder: 'mnist',
    downloads: idxDownloads(MNIST_MIRRORS, {
      trainImages: ['440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609', 9912422],
      trainLabels: ['3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c', 28881],
      testImages: ['8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6', 1648877],
      testLabels: ['f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6', 4542],
    }),
    labelNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST (Zalando article images)',
    shape: [1, 28, 28],
    features: 784,
    classes: 10,
    trainCount: 60000,
    testCount: 10000,
    format: 'idx',
    trainFiles: [MNIST_FILES.trainImages, MNIST_FILES.trainLabels],
    testFiles: [MNIST_FILES.testImages, MNIST_FILES.testLabels],
    folders: ['fashion-mnist'],
    downloadFolder: 'fashion-mnist',
    downloads: idxDownloads(FASHION_MIRRORS, {
      trainImages: ['3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84', 26421880],
      trainLabels: ['a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845', 29515],
      testImages: ['346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073', 4422102],
      testLabels: ['67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5', 5148],
    }),
    labelNames: [
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ],
  },
  cifar10: {
    name: 'cifar10',
    title: 'CIFAR-10 (32x32 colour images, 10 classes)',
    shape: [3, 32, 32],
    features: 3072,
    classes: 10,
    trainCount: 50000,
    testCount: 10000,
    format: 'cifar10',
    trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    testFiles: ['test_batch.bin'],
    folders: ['cifar-10-batches-bin', 'cifar10', 'cifar10/cifar-10-batches-bin'],
    archive: { file: 'cifar-10-binary.tar.gz', memberDir: 'cifar-10-batches-bin', folders: ['', 'cifar10'] },
    downloadFolder: 'cifar10',
    downloads: [
      {
        file: 'cifar-10-binary.tar.gz',
        sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
        bytes: 170052171,
        urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
      },
    ],
    labelNames: CIFAR10_LABELS,
  },
  cifar100: {
    name: 'cifar100',
    title: 'CIFAR-100 (32x32 colour images, 100 classes in 20 superclasses)',
    shape: [3, 32, 32],
    features: 3072,
    classes: 100,
    coarseClasses: 20,
    trainCount: 50000,
    testCount: 10000,
    format: 'cifar100',
    trainFiles: ['train.bin'],
    testFiles: ['test.bin'],
    folders: ['cifar-100-binary', 'cifar100', 'cifar100/cifar-100-binary'],
    archive: { file: 'cifar-100-binary.tar.gz', memberDir: 'cifar-100-binary', folders: ['', 'cifar100'] },
    downloadFolder: 'cifar100',
    downloads: [
      {
        file: 'cifar-100-binary.tar.gz',
        sha256: '58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec',
        urls: ['https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz'],
      },
    ],
    labelNames: CIFAR100_FINE_LABELS,
    coarseLabelNames: CIFAR100_COARSE_LABELS,
  },
};

/**
 * Checks a dataset name.
 * @throws TopdownUsageError naming the supported datasets when `value` is not one of them
 */
export function parseDatasetName(value: string): DatasetName {
  if ((DATASET_NAMES as readonly string[]).includes(value)) return value as DatasetName;
  throw new TopdownUsageError(`unknown dataset "${value}"; choose one of ${DATASET_NAMES.join(', ')}`);
}

/**
 * The most bytes one stored file of a dataset may hold, raw or inflated: its whole official content (every
 * record of both splits, labels included) with a quarter more and a MiB of room for headers and archive
 * members. A file past it cannot be a dataset file, so reading or inflating stops there, before the memory
 * of a decompression bomb is taken.
 */
export function maxDatasetFileBytes(spec: DatasetSpec): number {
  const labelBytes = spec.format === 'cifar100' ? 2 : 1;
  const official = (spec.trainCount + spec.testCount) * (spec.features + labelBytes);
  return Math.ceil(1.25 * official) + 1024 ** 2;
}
