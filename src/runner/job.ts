/**
 * A run of the reproduce / sweep runner: one configuration and seed, trained by `topdown train` into a run
 * folder named by a hash of what shapes the run (so the same run is found again whatever asked for it).
 */
import { createHash } from 'node:crypto';

import type { TrainConfig } from '../train/config.js';
import { canonicalJson, RESUMABLE_CHANGES } from '../train/trainer.js';

/** One run to make. */
export interface Job {
  /** The hash of the run's identity (see {@link runId}); also its folder's name. */
  id: string;
  /** The full configuration, with its seed and target epochs. */
  config: TrainConfig;
  /** Who asked for it: e.g. `baselines/pepita-cifar10`, seed 2. */
  label: string;
  /** The seed (also in config). */
  seed: number;
}

/**
 * The identity of a run: its configuration without what a resumed run may change (data folder, engine,
 * threads, epochs, memory limit), so that a run extended from a preview's 5 epochs to 100 is the same run.
 */
export function runId(config: TrainConfig): string {
  const identity: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!RESUMABLE_CHANGES.includes(key)) identity[key] = value;
  }
  return createHash('sha256').update(canonicalJson(identity)!).digest('hex').slice(0, 16);
}

/** A job for `config` with `seed`. */
export function jobFor(config: TrainConfig, seed: number, label: string): Job {
  const withSeed = { ...config, seed } as TrainConfig;
  return { id: runId(withSeed), config: withSeed, label: `${label} seed ${seed}`, seed };
}
