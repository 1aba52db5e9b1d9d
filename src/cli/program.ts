import { Command, CommanderError, Option } from 'commander';

import { parseGemmShapes } from '../bench/gemm-shapes.js';
import { DATASET_NAMES } from '../data/datasets.js';
import { TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';
import { FEEDBACK_INITS } from '../feedback/top-down.js';
import { PEPITA_MODES } from '../rules/pepita.js';
import { RULE_NAMES } from '../rules/registry.js';

import { runBenchGemm, type BenchGemmFlags } from './commands/bench.js';
import { runBenchTrain, type BenchTrainFlags } from './commands/bench-train.js';
import { registerDataCommands } from './commands/data.js';
import { registerEvalCommand } from './commands/eval.js';
import { runInfo } from './commands/info.js';
import { registerShowSamplesCommand } from './commands/show-samples.js';
import { registerTheoryCommand } from './commands/theory.js';
import { registerTrainCommands } from './commands/train.js';
import { asArgParser, engineOption, threadsOption } from './engine-flags.js';
import { processIO, type CliIO } from './io.js';
import { intList, nonNegativeInt, numberIn, positiveInt } from './parse.js';
import { packageVersion } from './package-info.js';

/** Exit codes: 0 success, 1 internal error, 2 usage error, 3 a requested capability is unavailable. */
export const EXIT = { ok: 0, internal: 1, usage: 2, unavailable: 3 } as const;

function buildProgram(io: CliIO): Command {
  const program = new Command('topdown')
    .description('Forward-only learning with top-down feedback: PEPITA, Forward-Forward, FA/DFA and backprop')
    .version(packageVersion(), '-V, --version')
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) =>
        write(`topdown: ${s.replace(/^error: /, '').trimEnd()} (see topdown --help)\n`),
    })
    .exitOverride();

  program
    .command('info')
    .description('show the version, compute engine, OpenBLAS core type and threads, and CPU')
    .addOption(engineOption())
    .addOption(threadsOption())
    .option('--json', 'print one JSON object')
    .action((flags) => runInfo(flags, io));

  const bench = program.command('bench').description('measure the compute engine');
  bench
    .command('gemm')
    .description("float32 matrix-multiply throughput per engine at the paper's shapes (GFLOP/s, us per call)")
    .addOption(
      new Option('--engine <name>', 'engine to measure (default: every available one)').choices([
        'auto',
        'blas',
        'js',
      ]),
    )
    .addOption(threadsOption())
    .option('--reps <n>', 'timed repetitions per case; the median is reported', positiveInt('--reps'), 7)
    .option('--min-rep-ms <ms>', 'minimum duration of one repetition', positiveInt('--min-rep-ms'), 20)
    .option(
      '--max-shape-ms <ms>',
      'soft cap on timing per case (slow cases run >= 3 repetitions)',
      positiveInt('--max-shape-ms'),
      4000,
    )
    .option(
      '--shapes <list>',
      'comma-separated MxKxN[:XY] shapes, X/Y = N or T for op(A)/op(B) (default: the paper shapes)',
      asArgParser(parseGemmShapes),
    )
    .option('--json', 'print one JSON object: {version, engines, results: [...], ratios: [...]}')
    .action((flags: BenchGemmFlags & { minRepMs: number; maxShapeMs: number }) => runBenchGemm(flags, io));

  bench
    .command('train')
    .description('training throughput (samples/s) of a learning rule on synthetic data shaped like a dataset')
    .addOption(new Option('--rule <name>', 'learning rule').choices(RULE_NAMES).default('pepita'))
    .addOption(
      new Option('--data <name>', 'dataset whose shape to use').choices(DATASET_NAMES).default('cifar10'),
    )
    .option('--hidden <widths>', 'hidden-layer widths, comma-separated', intList('--hidden'), [1024])
    .option('--batch <n>', 'batch size', positiveInt('--batch'), 64)
    .option('--batches <n>', 'timed batches', positiveInt('--batches'), 50)
    .option('--warmup <n>', 'untimed batches first', nonNegativeInt('--warmup'), 5)
    .option('--dropout <p>', 'dropout probability on hidden layers', numberIn('--dropout', 0, 1), 0.1)
    .option('--lr <rate>', 'learning rate', numberIn('--lr', 0), 0.01)
    .option('--momentum <m>', 'SGD momentum', numberIn('--momentum', 0, 1), 0.9)
    .option('--weight-decay <wd>', 'coupled weight decay', numberIn('--weight-decay', 0), 0)
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), 1)
    .addOption(new Option('--mode <mode>', 'PEPITA mode').choices(PEPITA_MODES))
    .addOption(
      new Option('--feedback-init <init>', 'PEPITA/AFA feedback F initialisation').choices(FEEDBACK_INITS),
    )
    .addOption(engineOption())
    .addOption(threadsOption())
    .option('--json', 'print one JSON object with samples_per_s, ms_per_batch, sizes, engine...')
    .action((flags: BenchTrainFlags) => runBenchTrain(flags, io));

  registerTrainCommands(program, io);
  registerEvalCommand(program, io);
  registerDataCommands(program, io);
  registerTheoryCommand(program, io);
  registerShowSamplesCommand(program, io);

  const configure = (command: Command): void => {
    command.exitOverride().configureOutput(program.configureOutput());
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/**
 * Runs the CLI on `argv` (without the node and script paths) and returns the exit code. Never throws for
 * user mistakes: they become one line on stderr and exit code 2.
 */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    io.out(program.helpInformation());
    return EXIT.ok;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof TopdownUsageError) {
      io.err(`topdown: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof TopdownUnavailableError) {
      io.err(`topdown: ${error.message}\n`);
      return EXIT.unavailable;
    }
    const e = error as Error;
    io.err(`topdown: internal error: ${e?.message ?? String(error)}\n`);
    if (process.env.TOPDOWN_DEBUG) io.err(`${e?.stack ?? ''}\n`);
    else io.err('topdown: set TOPDOWN_DEBUG=1 for the stack trace, and please report it\n');
    return EXIT.internal;
  }
}
