/**
 * PEPITA with weight mirroring (spec 2.7), as a wrapper around the PEPITA rule. Each step runs in the
 * reference code's order: the PEPITA update of W (skipped during pre-mirroring epochs, when only the clean
 * pass runs), then, in mirroring epochs, one mirroring update of F's factors that sees the freshly updated W,
 * and F's renormalisation. Pre-mirroring epochs are a prelude: they run before the training epochs and are not
 * counted in them. The mirroring schedule counts epochs from the first pre-mirroring one, as the reference
 * code does.
 */
import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { StateGroup, StateSet, type Stateful } from '../core/state.js';
import { NormalStream } from '../core/normal-stream.js';
import { mirrorSchedule, WeightMirror, type MirrorConfig, type MirrorStreams } from '../feedback/mirror.js';
import { forward, type DropoutMasks, type ForwardState } from '../nn/forward.js';
import { Sgd } from '../optim/sgd.js';
import type { GradientSink } from '../optim/sink.js';

import type { PepitaRule } from './pepita.js';
import type { Batch, InputView, LearningRule, MetricValue, RuleContext } from './rule.js';

/**
 * Trains on `batch` in 0-based epoch `slot` (pre-mirroring epochs included); returns the clean pass (for loss
 * and accuracy). `streams` supply the mirroring noise and its dropout masks.
 */
export function pepitaStepWithMirroring(
  engine: Engine,
  rule: PepitaRule,
  mirror: WeightMirror,
  slot: number,
  batch: Batch,
  sink: GradientSink,
  masks: DropoutMasks | null,
  streams: MirrorStreams,
): ForwardState {
  const schedule = mirrorSchedule(slot, mirror.options);
  let state: ForwardState;
  if (schedule.preMirroring) {
    forward(engine, rule.clean, batch.x, masks);
    state = rule.clean;
  } else {
    state = rule.train(batch, sink, masks);
  }
  if (schedule.mirror) mirror.step(streams);
  return state;
}

/** PEPITA whose factorised F is mirrored towards the forward weights. */
class MirroredPepita implements LearningRule {
  readonly name: string;
  readonly state: Stateful;
  readonly prelude: { phase: string; epochs: number } | undefined;
  private slot = 0;
  private normals: NormalStream;

  constructor(
    private readonly engine: Engine,
    private readonly rule: PepitaRule,
    private readonly mirror: WeightMirror,
    private rng: Rng,
  ) {
    this.normals = NormalStream.fromRng(rng.derive('noise-normals'));
    this.name = rule.name;
    const pre = mirror.options.preMirrorEpochs;
    this.prelude = pre > 0 ? { phase: 'pre-mirror', epochs: pre } : undefined;
    this.state = new StateGroup({
      feedback: rule.state,
      mirror: new StateSet().rng('noise', { get: () => this.rng, set: (r) => (this.rng = r) }).value(
        'noiseNormals',
        () => this.normals.state(),
        (s) => (this.normals = NormalStream.fromState(s)),
      ),
    });
  }

  beginEpoch(slot: number): void {
    this.slot = slot;
  }

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    return pepitaStepWithMirroring(this.engine, this.rule, this.mirror, this.slot, batch, sink, masks, {
      rng: this.rng,
      normals: this.normals,
    });
  }

  twoPasses(batch: Batch): { first: ForwardState; second: ForwardState } {
    return this.rule.twoPasses(batch);
  }

  diagnostics(): Record<string, MetricValue> {
    return this.rule.diagnostics();
  }

  inputViews(batch: Batch): InputView[] {
    return this.rule.inputViews(batch);
  }
}

/** Wraps `rule` with weight mirroring of its (factorised) F; the factors get their own plain SGD. */
export function withMirroring(ctx: RuleContext, rule: PepitaRule, config: MirrorConfig): LearningRule {
  const factors = rule.feedback.factors;
  if (!factors) {
    throw new TopdownUsageError('weight mirroring needs the factorised ("normal") feedback initialisation');
  }
  const params = { weights: factors, biases: factors.map(() => null) };
  const settings = { lr: config.lr, weightDecay: config.weightDecay, momentum: 0 };
  const sgd =
    ctx.optimizer?.('mirror', params, { optimizer: 'sgd', ...settings, scheduled: false }) ??
    new Sgd(ctx.engine, params, settings);
  const mirror = new WeightMirror(ctx.net, rule.feedback, ctx.engine, ctx.maxBatch, sgd, {
    noise: config.noise,
    learningRate: config.lr,
    weightDecay: config.weightDecay,
    period: config.period,
    preMirrorEpochs: config.preMirrorEpochs,
  });
  return new MirroredPepita(ctx.engine, rule, mirror, ctx.rng.derive('mirror'));
}
