/**
 * Direct feedback rules (spec 2.3, 2.4): every hidden layer gets a signal s (b x d_L) through its own fixed
 * random D_l (d_L x d_l): delta_l = (s D_l) * block'_l; the output layer uses backprop's output delta.
 * DFA projects the output error s = e; DRTP projects the targets s = t.
 */
import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';
import { StateSet } from '../core/state.js';
import { ForwardState, forward, type DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { addLayerUpdates, DeltaBuffers, directDeltas, namedFeedback } from './backward-chain.js';
import { outputDelta, outputError } from './output-error.js';
import type { Batch } from './rule.js';
import { Scratch } from './scratch.js';
import { measures, stepCostOf, type StepCost } from './step-cost.js';

/**
 * One step of DFA or DRTP: each hidden layer l = 1..L-1 receives E B_l^T (dfa) or T B_l^T (drtp), b d_L d_l,
 * plus the forward pass and b P of updates; every activity is kept, plus one delta buffer.
 */
export function directFeedbackCost(shape: { sizes: readonly number[]; batch: number }): StepCost {
  const m = measures(shape);
  let feedback = 0;
  for (let l = 1; l <= m.L - 1; l++) feedback += m.b * m.d[m.L]! * m.d[l]!;
  return stepCostOf({ forward: m.b * m.P, feedback, updates: m.b * m.P }, m.b * m.units + m.b * m.widest);
}

export abstract class DirectFeedbackRule {
  abstract readonly name: string;
  protected readonly pass: ForwardState;
  readonly state: StateSet;
  protected readonly buffers: DeltaBuffers;
  private readonly error: Scratch;

  constructor(
    protected readonly net: Network,
    protected readonly engine: Engine,
    maxBatch: number,
    readonly feedback: readonly Matrix[],
  ) {
    const dL = net.width(net.depth);
    if (feedback.length !== net.depth - 1)
      throw new TopdownUsageError(`needs ${net.depth - 1} feedback matrices`);
    feedback.forEach((d, l) => {
      if (d.rows !== dL || d.cols !== net.width(l + 1)) {
        throw new TopdownUsageError(`direct feedback ${l} must be ${dL}x${net.width(l + 1)}`);
      }
    });
    this.pass = new ForwardState(net, maxBatch, engine);
    this.buffers = new DeltaBuffers(net, maxBatch, engine);
    this.error = new Scratch(maxBatch, dL, engine);
    this.state = new StateSet().tensors(namedFeedback(feedback));
  }

  /** The b x d_L signal projected to the hidden layers. */
  protected abstract signal(batch: Batch, error: Matrix): Matrix;

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    const state = this.pass;
    forward(this.engine, state, batch.x, masks);
    const b = state.rows;
    const error = this.error.rows(b);
    outputError(state.output, batch.targets, error);
    directDeltas(this.engine, state, this.signal(batch, error), this.feedback, this.buffers, masks);
    const top = this.buffers.deltas[this.net.depth - 1]!.rows(b);
    top.copyFrom(error);
    outputDelta(state, top, this.buffers.scratch);
    addLayerUpdates(this.engine, state, this.buffers, sink);
    sink.step();
    return state;
  }
}
