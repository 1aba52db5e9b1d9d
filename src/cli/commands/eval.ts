import { Command } from 'commander';

import { loadDataset, resolveDataDir } from '../../data/index.js';
import { restoreModel } from '../../train/model.js';
import { RunFolder } from '../../train/run-folder.js';
import { TrainingSession } from '../../train/trainer.js';
import { engineOption, engineFromFlags, threadsOption, type EngineFlags } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { nonEmpty } from '../parse.js';

export function registerEvalCommand(program: Command, io: CliIO): void {
  program
    .command('eval')
    .description("evaluate a run's checkpoint on the test set")
    .argument('<dir>', 'run folder holding checkpoint.bin', nonEmpty('the run folder'))
    .option(
      '--data-dir <dir>',
      'data folder (default: the run config, TOPDOWN_DATA, else the per-user cache)',
    )
    .addOption(engineOption())
    .addOption(threadsOption())
    .option('--best', "evaluate the best epoch's checkpoint (checkpoint-best.bin) instead of the latest")
    .option('--json', 'print one JSON object')
    .action((dir: string, flags: EngineFlags & { dataDir?: string; json?: boolean; best?: boolean }) => {
      const checkpoint = RunFolder.forReading(dir).readCheckpoint(flags.best ? 'best' : 'latest');
      const config = { ...checkpoint.config, trainSubset: undefined };
      const { engine } = engineFromFlags(flags, io);
      // Standardisation statistics come from the whole training set; otherwise one batch of it is enough.
      const data = loadDataset(config.data, {
        dataDir: resolveDataDir(flags.dataDir ?? config.dataDir),
        trainSubset: config.standardize ? checkpoint.config.trainSubset : config.batchSize,
        testSubset: config.testSubset,
      });
      // A session with no training steps: its model is rebuilt from the config, then loaded from the checkpoint.
      const session = new TrainingSession({ ...config, valSplit: 0 }, data, engine, {});
      restoreModel(
        session.model,
        checkpoint.model,
        `${dir}/${flags.best ? 'checkpoint-best.bin' : 'checkpoint.bin'}`,
      );
      const indices = Uint32Array.from({ length: data.test.count }, (_, i) => i);
      const result = session.evaluate(data.test, indices);
      const extra: Record<string, number> = {};
      const words: string[] = [];
      for (const c of session.model.rule.classifiers ?? []) {
        extra[c.metric] = session.classifierAccuracy(c, data.test, indices);
        words.push(`, ${c.label} ${(100 * extra[c.metric]!).toFixed(2)}%`);
      }
      const out = {
        test_acc: result.accuracy,
        ...extra,
        test_loss: result.loss,
        samples: data.test.count,
        epochs: checkpoint.epochsDone,
        dir,
      };
      if (flags.json) io.out(JSON.stringify(out) + '\n');
      else
        io.out(
          `test accuracy ${(100 * result.accuracy).toFixed(2)}% (loss ${result.loss.toFixed(4)})` +
            words.join('') +
            ` on ${data.test.count} samples, checkpoint after ${checkpoint.epochsDone} epochs\n`,
        );
    });
}
