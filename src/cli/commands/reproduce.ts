import { availableParallelism } from 'node:os';
import { basename, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Command } from 'commander';

import { TopdownInterruptedError, TopdownUsageError } from '../../core/errors.js';
import { ensureFolder, fileError } from '../../core/files.js';
import { printable, quoted } from '../../core/untrusted.js';
import { DATASETS } from '../../data/datasets.js';
import { cellIds, findExperiment, listExperiments, type Experiment } from '../../experiments/experiment.js';
import { DEFAULT_MAX_RUNS, MAX_RUNS_CEILING } from '../../experiments/limits.js';
import {
  checkRunCount,
  counted,
  experimentPlan,
  planJobs,
  type PlannedCell,
  type SizeFactor,
} from '../../experiments/plan.js';
import { configStepCost } from '../../train/config-cost.js';
import type { Job } from '../../runner/job.js';
import { jobDone, LocalRunner, type RunnerProgress } from '../../runner/local.js';
import { MemoryQueue, type JobOutcome } from '../../runner/queue.js';
import { readConfigFile } from '../../train/config-file.js';
import { resolveMergedConfig } from '../../train/config.js';
import { RunLock } from '../../train/run-lock.js';
import { RESUMABLE_CHANGES } from '../../train/trainer.js';
import {
  experimentManifest,
  manifestConflict,
  writeManifest,
  type Manifest,
} from '../../reports/manifest.js';
import { asArgParser, checkEngineEnvironment, threadsOption } from '../engine-flags.js';
import { queueOption, runOnQueue } from './queue.js';
import type { CliIO } from '../io.js';
import { intInRange, nonEmpty, positiveInt } from '../parse.js';
import { parseFieldValue } from '../schema-flags.js';

import { trainFields } from './train.js';

interface ReproduceFlags {
  queue?: string;
  list?: boolean;
  name?: string;
  cells?: string;
  seeds?: number;
  epochs?: number;
  trainSubset?: number;
  testSubset?: number;
  workers?: number;
  threads?: number;
  dataDir?: string;
  maxRuns: number;
  out: string;
}

/** `--name`: a report name, also a file name in OUT/experiments. */
const REPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const reportName = asArgParser((value: string): string => {
  if (!REPORT_NAME.test(value)) {
    throw new TopdownUsageError(
      `--name ${quoted(value)}: use letters, digits, dots, dashes and underscores (it names OUT/experiments/NAME.json)`,
    );
  }
  return value;
});

/** A nominal rate for cost estimates: multiply-adds per second of the matrix products on two cores. */
const NOMINAL_MACS_PER_S = 50e9;

/** The runner's options, shared by reproduce and sweep. */
function addRunnerOptions(command: Command): Command {
  return command
    .option(
      '--workers <n>',
      'runs at once (default: one per core, at most the runs left)',
      positiveInt('--workers'),
    )
    .addOption(threadsOption('engine threads per run (default: cores / workers)'))
    .option('--data-dir <dir>', 'where the datasets are', nonEmpty('--data-dir'))
    .option('--out <dir>', 'results directory (runs in DIR/runs/<hash>)', nonEmpty('--out'), 'results')
    .option(
      '--max-runs <n>',
      `refuse more runs than this, counted before any is planned (at most ${MAX_RUNS_CEILING})`,
      intInRange('--max-runs', 1, MAX_RUNS_CEILING),
      DEFAULT_MAX_RUNS,
    )
    .option(
      '--queue <url>',
      'put the runs on a distributed queue (redis://HOST:PORT[/DB]) for topdown worker processes, and follow them',
      queueOption,
    );
}

export function registerReproduceCommand(program: Command, io: CliIO): void {
  const command = program
    .command('reproduce [name]')
    .description(
      "reproduce one of the paper's tables or figures: every configuration x seed as a run folder, run in parallel, resumable",
    )
    .option('--list', 'list the experiments, with the cost of their full budget')
    .option('--cells <list>', 'only these cells of the experiment (comma-separated ids)', nonEmpty('--cells'))
    .option(
      '--seeds <n>',
      'seeds per configuration (default: the experiment full budget)',
      positiveInt('--seeds'),
    )
    .option('--epochs <n>', 'epochs per run (default: the experiment full budget)', positiveInt('--epochs'))
    .option('--train-subset <n>', 'train on the first N training examples', positiveInt('--train-subset'))
    .option('--test-subset <n>', 'evaluate on the first N test examples', positiveInt('--test-subset'))
    .option(
      '--name <name>',
      'the name it is reported under (default: the experiment name; e.g. a preview beside the full budget)',
      reportName,
    );
  addRunnerOptions(command);
  command.hook('preAction', () => void checkEngineEnvironment());
  command.action((name: string | undefined, flags: ReproduceFlags) => runReproduce(name, flags, io));
}

/** Seconds per online step and unit of D (K + M): the theory's simulator at D = 500 measured about 5 us. */
const THEORY_SECONDS_PER_STEP_UNIT = 2.5e-9;

/**
 * The nominal time of a run: its steps' multiply-adds (from the rule's cost model, evaluation excluded) at
 * the nominal rate; a theory run's simulation steps (overhead-bound, not product-bound) at their measured
 * cost, one rule and seed after another.
 */
function runSeconds(job: Job): number {
  if (job.kind === 'theory') {
    const { D, K, M, tMax } = job.problem;
    return job.rules.length * job.seeds * tMax * D * THEORY_SECONDS_PER_STEP_UNIT * D * (K + M);
  }
  const config = job.config;
  const spec = DATASETS[config.data];
  const { cost } = configStepCost(config);
  const examples = config.trainSubset ?? spec.trainCount;
  return (cost.macs * Math.floor(examples / config.batchSize) * config.epochs) / NOMINAL_MACS_PER_S;
}

function formatHours(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function listAll(io: CliIO): void {
  const rows = listExperiments().map((e) => {
    const jobs = planJobs(experimentPlan(e, {}));
    const seconds = jobs.reduce((s, j) => s + runSeconds(j), 0);
    return [e.name, `${jobs.length} runs`, `~${formatHours(seconds)}`, e.description];
  });
  const widths = [0, 1, 2].map((j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) io.out(`${r.map((c, j) => (j < 3 ? c.padEnd(widths[j]!) : c)).join('  ')}\n`);
  io.out(
    `(full budgets; times at a nominal ${NOMINAL_MACS_PER_S / 1e9} GMAC/s of matrix products, theory at its simulator's measured speed; preview with --epochs, --train-subset, --seeds)\n`,
  );
}

function progressLine(p: RunnerProgress): string {
  const eta = p.etaSeconds === null ? '' : `, ETA ${formatHours(p.etaSeconds)}`;
  const failed = p.failed ? `, ${p.failed} failed` : '';
  return `runs: ${p.done} done, ${p.running} running, ${p.queued} queued${failed}; epochs ${p.epochsDone}/${p.epochsDone + p.epochsLeft}${eta}`;
}

/** One line on a run's end; its label and error may hold a sweep's values or a child's text, so escaped. */
function describe(job: Job, outcome: JobOutcome): string {
  return printable(describeRaw(job, outcome));
}

function describeRaw(job: Job, outcome: JobOutcome): string {
  switch (outcome.status) {
    case 'done':
      if (job.kind === 'theory') return `${job.label}: done`;
      return `${job.label}: ${outcome.testAcc === null ? 'done' : `test ${(100 * outcome.testAcc).toFixed(2)}%`} after ${outcome.epochs} epochs`;
    case 'failed':
      return `${job.label} failed${outcome.attempts > 1 ? ` (${outcome.attempts} attempts)` : ''}: ${outcome.error}`;
    case 'interrupted':
      return `${job.label}: interrupted (resumable)`;
  }
}

async function runReproduce(name: string | undefined, flags: ReproduceFlags, io: CliIO): Promise<void> {
  if (flags.list) {
    listAll(io);
    return;
  }
  if (!name) throw new TopdownUsageError('name an experiment (topdown reproduce --list shows them)');
  const experiment = findExperiment(name);
  const cells = cellList(experiment, flags.cells);
  const cellCount = cells?.size ?? experiment.cells.length;
  const seeds = flags.seeds ?? experiment.seeds;
  const theory = experiment.kind === 'theory';
  checkRunCount(
    experiment.name,
    [
      [cellCount, counted(cellCount, 'cell')],
      [seeds, theory ? counted(seeds, 'simulation') : counted(seeds, 'seed')],
    ],
    flags.maxRuns,
    theory ? 'simulations' : 'runs',
  );
  const plan = experimentPlan(experiment, flags, cells);
  const named = experimentManifest(experiment, flags, plan);
  const manifest = flags.name ? { ...named, experiment: flags.name } : named;
  await recordAndRun(manifest, cellIds(experiment), planJobs(plan), flags, io);
}

/**
 * Records `manifest` in the results directory and makes `jobs` (reproduce and sweep), holding the directory
 * when the runs are made here. Two runners making the same runs in one directory would race for each run
 * folder: the second, finding a folder the first had just created, would start it again with --overwrite, or
 * be told to. The lock (`OUT/experiments/run.lock`, the run folders' own kind: pid and host, stale once its
 * process is gone) makes the second refuse at once, naming the first. Runs on a queue are made by workers,
 * which lock each run. Another budget that would drop cells from the report is refused before anything is
 * written.
 */
async function recordAndRun(
  manifest: Manifest,
  order: readonly string[] | undefined,
  jobs: Job[],
  flags: RunnerFlags,
  io: CliIO,
): Promise<void> {
  const out = resolvePath(flags.out);
  let lock: RunLock | null = null;
  if (!flags.queue) {
    const dir = join(out, 'experiments');
    try {
      ensureFolder(dir);
    } catch (error) {
      throw fileError(`cannot create ${dir}`, error);
    }
    lock = RunLock.acquire(dir, { name: out, orElse: 'give this one another --out' });
  }
  try {
    const conflict = manifestConflict(out, manifest);
    if (conflict) throw new TopdownUsageError(conflict);
    writeManifest(out, manifest, order);
    await runJobs(dedupe(jobs), flags, io);
  } finally {
    lock?.release();
  }
}

function cellList(experiment: Experiment, list: string | undefined): Set<string> | undefined {
  if (list === undefined) return undefined;
  const ids = new Set(list.split(',').map((s) => s.trim()));
  const all = cellIds(experiment);
  const unknown = [...ids].filter((id) => !all.includes(id));
  if (unknown.length) {
    throw new TopdownUsageError(
      `--cells: ${unknown.map((u) => quoted(u)).join(', ')} not in ${experiment.name}; its cells: ${all.join(', ')}`,
    );
  }
  return ids;
}

function dedupe(jobs: Job[]): Job[] {
  const seen = new Set<string>();
  return jobs.filter((j) => !seen.has(j.id) && seen.add(j.id));
}

/** The runner's flags, shared by reproduce and sweep. */
interface RunnerFlags {
  workers?: number;
  threads?: number;
  dataDir?: string;
  out: string;
  queue?: string;
}

/** Runs jobs with the local runner, one progress display, Ctrl-C honoured; shared by reproduce and sweep. */
export async function runJobs(jobs: Job[], flags: RunnerFlags, io: CliIO): Promise<void> {
  if (flags.queue) {
    await runOnQueue(jobs, { queue: flags.queue, out: flags.out }, io, {
      describe,
      formatSeconds: formatHours,
    });
    return;
  }
  const cores = availableParallelism();
  const out = resolvePath(flags.out);
  const left = jobs.filter((j) => !jobDone(out, j)).length;
  const workers = Math.max(1, Math.min(flags.workers ?? cores, Math.max(1, left)));
  const threads = flags.threads ?? Math.max(1, Math.floor(cores / workers));
  const cli = fileURLToPath(new URL('../main.js', import.meta.url));
  const live = io.errIsTTY;
  io.err(
    `${jobs.length} runs in ${out}/runs, ${workers} at a time with ${threads} thread${threads === 1 ? '' : 's'} each\n`,
  );
  const runner = new LocalRunner(new MemoryQueue(), {
    out,
    workers,
    threads,
    dataDir: flags.dataDir ? resolvePath(flags.dataDir) : undefined,
    cli,
    onProgress: (p) => {
      if (live) io.err(`\r\x1b[K${progressLine(p)}`);
    },
    onRunEnd: (job, outcome) => io.err(`${live ? '\r\x1b[K' : ''}${describe(job, outcome)}\n`),
  });
  let signals = 0;
  const stop = (): void => {
    signals++;
    if (signals === 1)
      io.err('\ntopdown: stopping: every run saves a checkpoint; press Ctrl-C again to stop them at once\n');
    runner.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let outcomes;
  try {
    outcomes = await runner.run(jobs);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (live) io.err('\r\x1b[K');
  const count = (s: JobOutcome['status']) => outcomes.filter((o) => o.outcome.status === s).length;
  const summary = `${count('done')} of ${jobs.length} runs done, ${count('failed')} failed, ${count('interrupted')} interrupted; results in ${out}/runs`;
  if (runner.stopped)
    throw new TopdownInterruptedError(`stopped: ${summary}; run the same command again to resume`, 130);
  io.err(`${summary}\n`);
  if (count('failed') > 0)
    throw new TopdownUsageError(`${count('failed')} run(s) failed (see above); the others are kept`);
}

/** One `--grid key=v1,v2` (list options: `key=1024,1024/512`, values split on `/`). */
export interface GridAxis {
  key: string;
  values: unknown[];
}

/** What to give instead of a grid over an option a run's id leaves out (RESUMABLE_CHANGES). */
const NOT_A_GRID_OPTION: Record<string, string> = {
  epochs: 'give --epochs N for every run, and read the earlier epochs off its curve',
  dataDir: 'give --data-dir',
  threads: "give --threads (the runner sets each run's threads)",
  engine: 'set it in the config file (topdown bench compares the engines)',
  maxMemory: 'set it in the config file',
  tensorboard: 'set it in the config file',
};

/**
 * Why a grid over option `key` would not make distinct runs, or null. A grid over the seed is overridden by
 * `--seeds`; one over an option a run's id leaves out (epochs, data folder, engine, threads, memory limit,
 * logging: what a resumed run may change) makes points that are one run folder, trained once.
 */
function notAGridOption(key: string, flag: string): string | null {
  if (key === 'seed')
    return 'every point runs seeds 0 to N-1 of --seeds N (a seed in the grid is overridden): give --seeds';
  if (!RESUMABLE_CHANGES.includes(key)) return null;
  return (
    `${flag} is not part of a run's id (the points would be one run folder, trained once): ` +
    (NOT_A_GRID_OPTION[key] ?? 'set it in the config file')
  );
}

/** How a parsed value shows in a cell id (and compares with the axis's other values). */
const valueText = (v: unknown): string => (Array.isArray(v) ? v.join('x') : String(v));

/**
 * Parses `--grid` arguments against the train options (the same parsers as the flags). Refuses in one line an
 * option given twice, a value given twice, and options whose points would not be distinct runs (see
 * {@link notAGridOption}).
 */
export function parseGrid(specs: readonly string[]): GridAxis[] {
  const fields = trainFields().map((f) => f.field);
  const given = new Map<string, { spec: string; texts: string[]; separator: string }>();
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1)
      throw new TopdownUsageError(`--grid ${quoted(spec)}: expected key=value1,value2,...`);
    const name = spec.slice(0, eq).trim().replace(/^--/, '');
    const field = fields.find((f) => f.flag === name || f.alias === name);
    if (!field)
      throw new TopdownUsageError(
        `--grid ${quoted(spec)}: no train option ${quoted(name)} (see topdown train --help)`,
      );
    const refused = notAGridOption(field.alias, field.flag);
    if (refused) throw new TopdownUsageError(`--grid ${quoted(spec)}: ${refused}`);
    const listy = field.kind === 'list' || field.kind === 'number-or-list';
    const separator = listy ? '/' : ',';
    const texts = spec
      .slice(eq + 1)
      .split(separator)
      .map((t) => t.trim());
    const before = given.get(field.alias);
    if (before) {
      const all = `${name}=${[...before.texts, ...texts].join(separator)}`;
      throw new TopdownUsageError(
        `--grid ${quoted(spec)}: ${field.alias} is already in --grid ${quoted(before.spec)}; give each option ` +
          `once, with all its values (${quoted(all)})`,
      );
    }
    given.set(field.alias, { spec, texts, separator });
    const values = texts.map((t) => parseFieldValue(field, t));
    const seen = new Set<string>();
    for (const v of values) {
      const text = valueText(v);
      if (seen.has(text)) throw new TopdownUsageError(`--grid ${quoted(spec)}: ${quoted(text)} twice`);
      seen.add(text);
    }
    return { key: field.alias, values };
  });
}

/** Every combination of the grid's values, as config overrides (the first axis varies slowest). */
export function gridPoints(axes: readonly GridAxis[]): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const axis of axes) points = points.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.key]: v })));
  return points;
}

const pointId = (p: Record<string, unknown>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${valueText(v)}`)
    .join(',');

/** The size of a sweep, checked before its points are made: the axes' lengths x seeds (see checkRunCount). */
function checkSweepSize(axes: readonly GridAxis[], seeds: number, maxRuns: number): void {
  const factors: SizeFactor[] = axes.map((a) => [
    a.values.length,
    counted(a.values.length, `${a.key} value`),
  ]);
  factors.push([seeds, counted(seeds, 'seed')]);
  checkRunCount('the grid', factors, maxRuns);
}

/** Refuses two points of a grid that are one run (e.g. `--arch` replacing a `hidden` axis). */
function checkDistinctRuns(plan: readonly PlannedCell[]): void {
  const cellOf = new Map<string, string>();
  for (const { cell, jobs } of plan) {
    const id = jobs[0]?.id;
    if (id === undefined) continue;
    const other = cellOf.get(id);
    if (other !== undefined) {
      throw new TopdownUsageError(
        `--grid: ${quoted(other)} and ${quoted(cell.id)} are the same run (${id}): what tells them apart ` +
          'does not change the configuration trained',
      );
    }
    cellOf.set(id, cell.id);
  }
}

/** `topdown sweep CONFIG --grid key=v1,v2 ...`: the grid's configurations x seeds on the same runner. */
export function registerSweepCommand(program: Command, io: CliIO): void {
  const command = program
    .command('sweep <config>')
    .description(
      'train every combination of a grid of options over a config file, x seeds, on the reproduce runner',
    )
    .option(
      '--grid <key=values>',
      'a train option and its values, comma-separated (list options: values split on "/"); repeatable, ' +
        'once per option; not seed (use --seeds) nor epochs, data-dir, engine, threads, max-memory, tensorboard',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--seeds <n>', 'seeds per configuration', positiveInt('--seeds'), 1)
    .option('--epochs <n>', 'epochs per run (default: the config file)', positiveInt('--epochs'))
    .option(
      '--name <name>',
      'the sweep name in the results directory (default: the config file name)',
      reportName,
    );
  addRunnerOptions(command);
  command.hook('preAction', () => void checkEngineEnvironment());
  command.action((file: string, flags: SweepFlags) => runSweep(file, flags, io));
}

async function runSweep(file: string, flags: SweepFlags, io: CliIO): Promise<void> {
  const axes = parseGrid(flags.grid ?? []);
  checkSweepSize(axes, flags.seeds, flags.maxRuns);
  const name = flags.name ?? basename(file).replace(/\.(ya?ml|json)$/i, '');
  if (!REPORT_NAME.test(name)) {
    throw new TopdownUsageError(
      `the config file's name ${quoted(name)} cannot name OUT/experiments/NAME.json (letters, digits, dots, ` +
        'dashes and underscores): give --name',
    );
  }
  const base = readConfigFile(file);
  const cells = gridPoints(axes).map((point) => ({
    id: pointId(point) || 'config',
    label: pointId(point) || name,
    config: point,
  }));
  const configs = new Map(
    cells.map((c) => [
      c.id,
      resolveMergedConfig(
        [base, `config file ${file}`],
        [{ ...c.config, ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}) }, 'grid'],
      ),
    ]),
  );
  const experiment: Experiment = {
    name,
    description: `sweep of ${file} over ${axes.map((a) => a.key).join(', ') || 'nothing'}`,
    seeds: flags.seeds,
    kind: 'table',
    metric: 'test_acc',
    cells: cells.map((c) => ({ ...c, config: {}, readings: [] })),
    configs,
    problems: new Map(),
    file,
  };
  const plan = experimentPlan(experiment, { seeds: flags.seeds });
  checkDistinctRuns(plan);
  const manifest = experimentManifest(experiment, { seeds: flags.seeds }, plan);
  await recordAndRun(manifest, undefined, planJobs(plan), flags, io);
}

interface SweepFlags {
  queue?: string;
  grid?: string[];
  seeds: number;
  epochs?: number;
  name?: string;
  workers?: number;
  threads?: number;
  dataDir?: string;
  maxRuns: number;
  out: string;
}
