import { Command, CommanderError, Option } from 'commander';

import { parseGemmShapes } from '../bench/gemm-shapes.js';
import { ENGINE_NAMES } from '../core/engine.js';
import { TopdownInterruptedError, TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';

import { runBenchGemm, type BenchGemmFlags } from './commands/bench.js';
import { registerBenchTrain } from './commands/bench-train.js';
import { registerDataCommands } from './commands/data.js';
import { registerEvalCommand } from './commands/eval.js';
import { runInfo } from './commands/info.js';
import { registerQueueCommands } from './commands/queue.js';
import { registerReportCommand } from './commands/report.js';
import { registerReproduceCommand, registerSweepCommand } from './commands/reproduce.js';
import { registerShowSamplesCommand } from './commands/show-samples.js';
import { registerTheoryCommand } from './commands/theory.js';
import { registerTrainCommands } from './commands/train.js';
import { registerWebCommand } from './commands/web.js';
import { asArgParser, engineOption, threadsOption } from './engine-flags.js';
import { processIO, type CliIO } from './io.js';
import { positiveInt } from './parse.js';
import { packageVersion } from './package-info.js';

/** Exit codes: 0 success, 1 internal error, 2 usage error, 3 a requested capability is unavailable. */
export const EXIT = { ok: 0, internal: 1, usage: 2, unavailable: 3 } as const;

function buildProgram(io: CliIO, argv: readonly string[]): Command {
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
      new Option('--engine <name>', 'engine to measure (default: every available one)').choices(ENGINE_NAMES),
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

  registerBenchTrain(bench, io);

  registerTrainCommands(program, io, helpRule(argv));
  registerEvalCommand(program, io);
  registerDataCommands(program, io);
  registerTheoryCommand(program, io);
  registerWebCommand(program, io);
  registerShowSamplesCommand(program, io);
  registerReproduceCommand(program, io);
  registerSweepCommand(program, io);
  registerQueueCommands(program, io);
  registerReportCommand(program, io);

  const configure = (command: Command): void => {
    command.exitOverride().configureOutput(program.configureOutput());
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** The `--rule` of an invocation asking for help (`train --help --rule ff`), which narrows the help. */
function helpRule(argv: readonly string[]): string | undefined {
  if (!argv.includes('--help') && !argv.includes('-h')) return undefined;
  const i = argv.indexOf('--rule');
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith('--rule='))?.slice('--rule='.length);
}

/**
 * Runs the CLI on `argv` (without the node and script paths) and returns the exit code. Never throws for
 * user mistakes: they become one line on stderr and exit code 2.
 */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io, argv);
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
    if (error instanceof TopdownInterruptedError) {
      io.err(`topdown: ${error.message}\n`);
      return error.exitCode;
    }
    const e = error as Error;
    io.err(`topdown: internal error: ${e?.message ?? String(error)}\n`);
    if (process.env.TOPDOWN_DEBUG) io.err(`${e?.stack ?? ''}\n`);
    else io.err('topdown: set TOPDOWN_DEBUG=1 for the stack trace, and please report it\n');
    return EXIT.internal;
  }
}
