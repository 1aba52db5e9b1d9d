import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import { Command, Option } from 'commander';

import { TopdownUsageError } from '../../core/errors.js';
import { writeTheoryOutputs } from '../../reports/theory-output.js';
import { DEFAULT_MAX_SIMULATION_STEPS } from '../../theory/budget.js';
import { runExperiment, type ExperimentResult } from '../../theory/experiment.js';
import {
  EG_CONVENTIONS,
  FEEDBACK_DRAWS,
  FEEDBACK_NORMALISATIONS,
  resolveTheoryProblem,
  SECOND_LAYER_INITS,
  TEACHER_SECOND_LAYERS,
  THEORY_RULES,
  type TheoryRule,
} from '../../theory/problem.js';
import { readConfigFile } from '../../train/config-file.js';
import { asArgParser } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { nonNegativeInt, numberIn, positiveInt, decimal, nonEmpty } from '../parse.js';

const ruleList = asArgParser((value: string): TheoryRule[] => {
  const items = value.split(',').map((s) => s.trim());
  const bad = items.filter((s) => !(THEORY_RULES as readonly string[]).includes(s));
  if (bad.length || items.length === 0) {
    throw new TopdownUsageError(
      `--rule: unknown rule ${bad.map((b) => `"${b}"`).join(', ')}; choose from ${THEORY_RULES.join(', ')} (comma-separated)`,
    );
  }
  return [...new Set(items)] as TheoryRule[];
});

const numberList = asArgParser((value: string): number[] => {
  const items = value.split(',').map(decimal);
  if (items.some((n) => !Number.isFinite(n))) {
    throw new TopdownUsageError('--feedback-mix must be a comma-separated list of numbers');
  }
  return items;
});

interface TheoryFlags {
  config?: string;
  rule: TheoryRule[];
  D?: number;
  K?: number;
  M?: number;
  lr?: number;
  lrSecond?: number;
  freezeSecondLayer?: boolean;
  teacher?: string;
  noise?: number;
  feedbackDraw?: string;
  feedbackMix?: number[];
  feedbackScale?: number;
  feedbackNormalisation?: string;
  dfaFeedbackStd?: number;
  firstLayerStd?: number;
  secondLayerStd?: number;
  secondLayerInit?: string;
  tMax?: number;
  tMin?: number;
  points?: number;
  eg?: string;
  seed?: number;
  seeds: number;
  ode?: boolean;
  sim?: boolean;
  workers?: number;
  maxSteps?: number;
  maxMemory?: number;
  out?: string;
  json?: boolean;
  plot?: boolean;
}

export function registerTheoryCommand(program: Command, io: CliIO): void {
  program
    .command('theory')
    .description(
      'teacher-student theory: order-parameter ODEs and online simulations from the same initial weights',
    )
    .addOption(
      new Option('--rule <list>', `rules, comma-separated: ${THEORY_RULES.join(', ')}`)
        .argParser(ruleList)
        .default(['pepita'], 'pepita'),
    )
    .option('--config <file>', 'YAML or JSON problem file (flags override it)', nonEmpty('--config'))
    .option('--D <n>', 'input dimension (default 500)', positiveInt('--D'))
    .option('--K <n>', 'student hidden units (default 2)', positiveInt('--K'))
    .option('--M <n>', 'teacher hidden units (default 2)', positiveInt('--M'))
    .option(
      '--lr <eta>',
      'learning rate, first layer eta/sqrt(D) per step (default 0.05)',
      numberIn('--lr', 0),
    )
    .option(
      '--lr-second <eta>',
      'second-layer rate, eta/D per step (default --lr)',
      numberIn('--lr-second', 0),
    )
    .option('--freeze-second-layer', 'keep the student second layer fixed (soft committee machine)')
    .addOption(
      new Option('--teacher <kind>', 'teacher second layer (default uniform: v* = 1)').choices(
        TEACHER_SECOND_LAYERS,
      ),
    )
    .option('--noise <sigma>', 'label noise std during training (default 0)', numberIn('--noise', 0))
    .addOption(
      new Option(
        '--feedback-draw <how>',
        'F independent of the student or a mix of it (default random)',
      ).choices(FEEDBACK_DRAWS),
    )
    .option(
      '--feedback-mix <list>',
      'coefficients c_k of F = sum c_k w_k(0) + noise (default 1,-0.5)',
      numberList,
    )
    .option(
      '--feedback-scale <eps>',
      "PEPITA's modulation strength epsilon (default 0.001)",
      numberIn('--feedback-scale', 0),
    )
    .addOption(
      new Option(
        '--feedback-normalisation <kind>',
        'b = W1 F / D (self-averaging, default) or / sqrt(D) (raw)',
      ).choices(FEEDBACK_NORMALISATIONS),
    )
    .option(
      '--dfa-feedback-std <s>',
      'std of the DFA/FA feedback vector (default 1)',
      numberIn('--dfa-feedback-std', 0),
    )
    .option(
      '--first-layer-std <s>',
      'student first-layer init std (default 1)',
      numberIn('--first-layer-std', 0),
    )
    .option(
      '--second-layer-std <s>',
      'student second-layer init std (default 1)',
      numberIn('--second-layer-std', 0),
    )
    .addOption(
      new Option('--second-layer-init <kind>', 'student second layer gaussian (default) or ones').choices(
        SECOND_LAYER_INITS,
      ),
    )
    .option('--t-max <t>', 'last time, t = steps / D (default 4000)', numberIn('--t-max', 0))
    .option('--t-min <t>', 'first non-zero time of the log grid (default 0.01)', numberIn('--t-min', 0))
    .option('--points <n>', 'log-spaced grid points (default 60)', positiveInt('--points'))
    .addOption(
      new Option('--eg <convention>', 'eps_g = 1/2 E[(yhat-y)^2] (half, default) or the MSE').choices(
        EG_CONVENTIONS,
      ),
    )
    .option('--seed <n>', 'seed of the initial weights (default 0)', nonNegativeInt('--seed'))
    .option('--seeds <n>', 'simulations per rule (sample streams), averaged', positiveInt('--seeds'), 1)
    .option('--ode', 'integrate the ODEs (default: both ODE and simulation)')
    .option('--sim', 'run the simulations (default: both ODE and simulation)')
    .option('--workers <n>', 'simulations run in parallel (default: all cores)', positiveInt('--workers'))
    .option(
      '--max-steps <n>',
      `refuse simulations of more online steps (tMax * D) than this (default ${DEFAULT_MAX_SIMULATION_STEPS.toExponential(1)}, about 2 hours)`,
      numberIn('--max-steps', 1),
    )
    .option(
      '--max-memory <GB>',
      "refuse experiments estimated to need more memory than this (default 80% of the machine's)",
      numberIn('--max-memory', 0),
    )
    .option(
      '--out <dir>',
      'write theory.json, theory.csv and problem.json (and figures with --plot) here',
      nonEmpty('--out'),
    )
    .option('--json', 'print one JSON object: {"curves": [...], "max_rel_gap": ...}')
    .option('--plot', 'write figure.svg and figure.png (eps_g and angles vs t) to --out')
    .action((flags: TheoryFlags) => runTheory(flags, io));
}

/** The problem fields given on the command line (undefined ones are left to the config file or defaults). */
function problemFromFlags(flags: TheoryFlags): Record<string, unknown> {
  const feedback: Record<string, unknown> = {
    draw: flags.feedbackDraw,
    mix: flags.feedbackMix,
    scale: flags.feedbackScale,
    normalisation: flags.feedbackNormalisation,
  };
  const top: Record<string, unknown> = {
    D: flags.D,
    K: flags.K,
    M: flags.M,
    lr: flags.lr,
    lrSecond: flags.lrSecond,
    trainSecondLayer: flags.freezeSecondLayer ? false : undefined,
    teacherSecondLayer: flags.teacher,
    noise: flags.noise,
    dfaFeedbackStd: flags.dfaFeedbackStd,
    firstLayerStd: flags.firstLayerStd,
    secondLayerStd: flags.secondLayerStd,
    secondLayerInit: flags.secondLayerInit,
    tMax: flags.tMax,
    tMin: flags.tMin,
    points: flags.points,
    egConvention: flags.eg,
    seed: flags.seed,
  };
  const defined = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const fb = defined(feedback);
  return { ...defined(top), ...(Object.keys(fb).length ? { feedback: fb } : {}) };
}

function mergeProblem(
  file: Record<string, unknown>,
  flags: Record<string, unknown>,
): Record<string, unknown> {
  const fileFeedback = (file.feedback ?? {}) as Record<string, unknown>;
  const flagFeedback = (flags.feedback ?? {}) as Record<string, unknown>;
  const merged = { ...file, ...flags };
  if (file.feedback !== undefined || flags.feedback !== undefined) {
    merged.feedback = { ...fileFeedback, ...flagFeedback };
  }
  return merged;
}

const fmt = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x)
    ? '-'
    : Math.abs(x) >= 0.01 || x === 0
      ? x.toFixed(4)
      : x.toExponential(2);

/** A readable table: eps_g of each ODE and simulation curve at each time, then the gaps. */
function printTable(result: ExperimentResult, io: CliIO): void {
  const curves = result.curves;
  const header = ['t', ...curves.map((c) => `${c.rule} ${c.kind}`)];
  const rows = curves[0]!.t.map((t, i) => [t.toPrecision(3), ...curves.map((c) => fmt(c.eg[i]))]);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => c.padStart(widths[j]!)).join('  ');
  io.out(
    `eps_g (${result.problem.egConvention === 'mse' ? 'mean squared error' : '1/2 mean squared error'})\n`,
  );
  io.out(line(header) + '\n');
  for (const r of rows) io.out(line(r) + '\n');
  for (const c of curves) {
    if (c.rel_gap) {
      io.out(
        `${c.rule}: simulation (${c.seeds} seed${c.seeds === 1 ? '' : 's'}) vs ODE: mean relative gap ` +
          `${(100 * c.rel_gap.mean).toFixed(2)}%, max ${(100 * c.rel_gap.max).toFixed(2)}%\n`,
      );
    }
  }
}

async function runTheory(flags: TheoryFlags, io: CliIO): Promise<void> {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const problem = resolveTheoryProblem(
    mergeProblem(file, problemFromFlags(flags)),
    flags.config ? `${flags.config} + flags` : 'theory',
  );
  if (flags.plot && !flags.out) throw new TopdownUsageError('--plot needs --out DIR for the figure files');
  const both = !flags.ode && !flags.sim;
  const live = io.errIsTTY && !flags.json;
  let lastDraw = 0;
  const start = performance.now();
  const result = await runExperiment(problem, {
    rules: flags.rule,
    seeds: flags.seeds,
    ode: both || Boolean(flags.ode),
    sim: both || Boolean(flags.sim),
    workers: flags.workers ?? availableParallelism(),
    limits: { maxSteps: flags.maxSteps, maxMemoryGb: flags.maxMemory },
    onProgress: (stage, fraction) => {
      if (!live) return;
      const now = performance.now();
      if (now - lastDraw < 200 && fraction < 1) return;
      lastDraw = now;
      const elapsed = (now - start) / 1000;
      const eta =
        stage === 'sim' && fraction > 0.01
          ? `  ETA ${((elapsed * (1 - fraction)) / fraction).toFixed(0)} s`
          : '';
      io.err(
        `\r\x1b[K${stage === 'ode' ? 'integrating ODEs' : 'simulating'} ${(100 * fraction).toFixed(0)}%${eta}`,
      );
    },
  });
  if (live) io.err('\r\x1b[K');
  if (flags.out) {
    const written = await writeTheoryOutputs(result, flags.out, {
      plot: Boolean(flags.plot),
      onWarning: (message) => io.err(`topdown: ${message}\n`),
    });
    if (!flags.json) io.err(`wrote ${written.map((f) => join(flags.out!, f)).join(', ')}\n`);
  }
  if (flags.json) {
    io.out(JSON.stringify(result) + '\n');
    return;
  }
  printTable(result, io);
}
