/**
 * The dataset layer: the supported datasets, loading their official files (IDX, CIFAR binary, gzipped or
 * not, CIFAR also straight from the official archive) into uint8 memory, float32 batches for training,
 * checking a data directory, and downloading the official files.
 * @packageDocumentation
 */
export {
  DATASET_NAMES,
  DATASETS,
  maxDatasetFileBytes,
  parseDatasetName,
  type ArchiveSpec,
  type DatasetFormat,
  type DatasetName,
  type DatasetSpec,
  type InputShape,
  type OfficialFile,
} from './datasets.js';
export { DataFormatError, DataMissingError } from './errors.js';
export { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, isGzip, parseIdxImages, parseIdxLabels } from './formats.js';
export { gunzipIfNeeded } from './read.js';
export {
  assembleDataset,
  storedFromFiles,
  type Inflate,
  type NamedFile,
  type StoredDataset,
  type StoredFile,
} from './assemble.js';
export { readTar } from './tar.js';
export { locateDataset, resolveDataDir, type DataDirContext, type DatasetLocation } from './paths.js';
export { loadDataset, type Dataset, type LoadOptions, type Split } from './load.js';
export { datasetFingerprint } from './fingerprint.js';
export {
  channelStats,
  fillBatch,
  fillTargets,
  labelsAt,
  standardizeTransform,
  type ChannelStats,
  type PixelTransform,
} from './batches.js';
export {
  checkDataset,
  listDatasets,
  sha256Hex,
  type DatasetStatus,
  type DatasetStatusKind,
  type ListOptions,
} from './verify.js';
export {
  downloadDataset,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  type DownloadedFile,
  type FetchLike,
} from './download.js';
