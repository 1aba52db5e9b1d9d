/** Opening a training session in Node: the dataset read from its folder, the engine chosen for this machine. */
import { createEngine, type Engine } from '../core/engine.js';
import { loadDataset, resolveDataDir, type Dataset } from '../data/index.js';

import { resolveTrainConfig, type TrainConfig, type TrainConfigInput } from './config.js';
import { TrainingSession, type SessionOptions } from './trainer.js';

/**
 * A session for `config` (resolved or partial, validated here), loading its dataset from `config.dataDir`
 * (else TOPDOWN_DATA, else the per-user cache) and creating its engine (`auto` defers to TOPDOWN_ENGINE, as
 * `topdown train` does), unless `data` or `engine` is given.
 */
export function openTrainingSession(
  config: TrainConfig | TrainConfigInput,
  options: SessionOptions & { data?: Dataset; engine?: Engine } = {},
): TrainingSession {
  const resolved = resolveTrainConfig(config);
  const { data: given, engine: givenEngine, ...session } = options;
  const engine =
    givenEngine ??
    createEngine({
      ...(resolved.engine !== 'auto' ? { engine: resolved.engine } : {}),
      ...(resolved.threads ? { threads: resolved.threads } : {}),
    }).engine;
  const data =
    given ??
    loadDataset(resolved.data, {
      dataDir: resolveDataDir(resolved.dataDir),
      trainSubset: resolved.trainSubset,
      testSubset: resolved.testSubset,
    });
  return new TrainingSession(resolved, data, engine, session);
}
