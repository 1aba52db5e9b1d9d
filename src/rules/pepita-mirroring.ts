/**
 * One training step of PEPITA with weight mirroring, in the reference code's order (spec 2.7): the PEPITA
 * update of W (skipped during pre-mirroring epochs, when only the clean pass runs), then, in mirroring
 * epochs, one mirroring update of F's factors that sees the freshly updated W, and F's renormalisation.
 */
import type { Engine } from '../core/engine.js';
import type { Rng } from '../core/rng.js';
import { mirrorSchedule, type WeightMirror } from '../feedback/mirror.js';
import { forward, type DropoutMasks, type ForwardState } from '../nn/forward.js';
import type { GradientSink } from '../optim/sink.js';

import type { PepitaRule } from './pepita.js';
import type { Batch } from './rule.js';

/**
 * Trains on `batch` in 0-based `epoch`; returns the clean pass (for loss and accuracy).
 * `mirrorRng` supplies the mirroring noise and its dropout masks.
 */
export function pepitaStepWithMirroring(
  engine: Engine,
  rule: PepitaRule,
  mirror: WeightMirror,
  epoch: number,
  batch: Batch,
  sink: GradientSink,
  masks: DropoutMasks | null,
  mirrorRng: Rng,
): ForwardState {
  const schedule = mirrorSchedule(epoch, mirror.options);
  let state: ForwardState;
  if (schedule.preMirroring) {
    forward(engine, rule.clean, batch.x, masks);
    state = rule.clean;
  } else {
    state = rule.train(batch, sink, masks);
  }
  if (schedule.mirror) mirror.step(mirrorRng);
  return state;
}
