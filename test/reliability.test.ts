/**
 * Regression tests for the faults a red-team pass found (issue 11): each command that showed a defect now
 * gives one clear line and the right exit code, and leaves nothing behind.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TopdownUnavailableError, TopdownUsageError } from '../src/core/errors.js';
import { fileError, writeAtomic } from '../src/core/files.js';
import { DATASETS, maxDatasetFileBytes } from '../src/data/datasets.js';
import { gunzipIfNeeded, readBytes } from '../src/data/read.js';
import { readCheckpointFile, writeCheckpointFile } from '../src/train/checkpoint-file.js';
import { resolveTrainConfig, type TrainConfigInput } from '../src/train/config.js';
import { RunFolder } from '../src/train/run-folder.js';
import { collapseCause, TrainingSession, type EpochLogs } from '../src/train/trainer.js';

import { availableEngines } from './helpers.js';
import { syntheticDataset, writeSyntheticMnist } from './train-helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'topdown-reliability-'));
const data = join(tmp, 'data');
beforeAll(() => writeSyntheticMnist(data, 9, 300, 100));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function topdown(args: string[], options: { cwd?: string; shell?: string } = {}) {
  const r = options.shell
    ? spawnSync('/bin/sh', ['-c', options.shell], {
        cwd: options.cwd ?? tmp,
        encoding: 'utf8',
        timeout: 30_000,
      })
    : spawnSync(process.execPath, [cli, ...args], {
        cwd: options.cwd ?? tmp,
        encoding: 'utf8',
        timeout: 30_000,
      });
  return { code: r.status, out: r.stdout, err: r.stderr, signal: r.signal };
}

const TRAIN = ['train', '--data-dir', data, '--hidden', '8', '--epochs', '1', '--batch-size', '32'];
const oneLine = (text: string): void => {
  expect(text.trim().split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/^\s+at /m);
};

describe('collapse is caught and never checkpointed', () => {
  const engine = availableEngines()[0]!;
  const small = (extra: TrainConfigInput) =>
    resolveTrainConfig({ hidden: [16], epochs: 3, batchSize: 16, decayEpochs: [], seed: 1, ...extra });

  it.each([
    [
      { lr: 1e3 },
      /training diverged at epoch 1(, batch \d+)?: (the loss is|the weights of layer \d exploded|test accuracy)/,
    ],
    [{ lr: 0.05, decayEpochs: [1], decayFactor: 1e6 }, /training diverged at epoch 3(, batch \d+)?: /],
  ] as [TrainConfigInput, RegExp][])(
    '%j stops with the cause, keeping the last good checkpoint',
    (extra, message) => {
      const folder = new RunFolder(join(tmp, `collapse-${JSON.stringify(extra).replace(/\W+/g, '')}`));
      const session = new TrainingSession(small(extra), syntheticDataset(3), engine, { sink: folder });
      expect(() => session.run()).toThrow(message);
      const good = session.history.epochs.length;
      if (good > 0) {
        const checkpoint = folder.readCheckpoint();
        expect(checkpoint.epochsDone).toBe(good);
        expect(checkpoint.history.at(-1)!.test_acc).toBeGreaterThan(0.5);
      }
    },
  );

  it("the best epoch's checkpoint is kept beside the latest, and eval --best evaluates it", () => {
    const out = join(tmp, 'best');
    const r = topdown([...TRAIN, '--epochs', '4', '--hidden', '16', '--lr', '0.3', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { epoch: number; test_acc: number });
    const best = lines.reduce((a, b) => (b.test_acc > a.test_acc ? b : a));
    expect(readCheckpointFile(join(out, 'checkpoint-best.bin')).header.epochsDone).toBe(best.epoch);
    const evaluated = topdown(['eval', out, '--best', '--json']);
    expect(evaluated.code, evaluated.err).toBe(0);
    expect(JSON.parse(evaluated.out)).toMatchObject({ test_acc: best.test_acc, epochs: best.epoch });
    const latest = JSON.parse(topdown(['eval', out, '--json']).out);
    expect(latest).toMatchObject({ test_acc: lines.at(-1)!.test_acc, epochs: 4 });
  });

  it('the collapse signatures: exploding weights, confident chance, a fall back to chance', () => {
    const logs = (test_acc: number, test_loss: number, weight_norms = [1, 1]) =>
      ({
        epoch: 2,
        lr: 0.1,
        train_loss: 1,
        train_acc: 0.5,
        test_acc,
        test_loss,
        weight_norms,
        seconds: 1,
        samples_per_s: 1,
      }) as EpochLogs;
    expect(collapseCause(logs(0.9, 0.3), 10, 0.9, [1, 1])).toBeNull();
    expect(collapseCause(logs(0.1, 2.3), 10, 0.1, [1, 1])).toBeNull(); // not learning yet is not a collapse
    expect(collapseCause(logs(0.9, 0.3, [1, 5e3]), 10, 0.9, [1, 1])).toMatch(/weights of layer 2 exploded/);
    expect(collapseCause(logs(0.9, 0.3, [NaN, 1]), 10, 0.9, [1, 1])).toMatch(/weights of layer 1 are NaN/);
    expect(collapseCause(logs(0.098, 25), 10, 0.1, [1, 1])).toMatch(/far worse than guessing/);
    expect(collapseCause(logs(0.1, 2.3), 10, 0.6, [1, 1])).toMatch(/fell to 10.0% \(chance\) from 60.0%/);
  });
});

describe('file-system errors', () => {
  it("name the path and the reason; the environment's faults are exit 3, the user's path exit 2", () => {
    const full = fileError(
      'cannot write runs/x/metrics.jsonl',
      Object.assign(new Error('x'), { code: 'ENOSPC' }),
    );
    expect(full).toBeInstanceOf(TopdownUnavailableError);
    expect(full.message).toBe('cannot write runs/x/metrics.jsonl: the disk is full (ENOSPC)');
    expect(fileError('w', Object.assign(new Error('x'), { code: 'EROFS' }))).toBeInstanceOf(
      TopdownUnavailableError,
    );
    const denied = fileError('cannot write /etc/x', Object.assign(new Error('x'), { code: 'EACCES' }));
    expect(denied).toBeInstanceOf(TopdownUsageError);
    expect(denied.message).toBe('cannot write /etc/x: permission denied (EACCES)');
  });

  it('writeAtomic replaces a file whole and leaves no temporary file when it fails', () => {
    const path = join(tmp, 'atomic.txt');
    writeAtomic(path, 'one');
    writeAtomic(path, 'two', new Uint8Array([0x21]));
    expect(readFileSync(path, 'utf8')).toBe('two!');
    const folder = join(tmp, 'atomic-folder');
    mkdirSync(join(folder, 'inside'), { recursive: true });
    expect(() => writeAtomic(join(folder, 'inside'), 'x')).toThrow(/cannot write .*inside: /);
    expect(readdirSync(folder)).toEqual(['inside']);
    expect(() => writeAtomic(join(tmp, 'no', 'such', 'file'), 'x')).toThrow(
      /no such file or folder \(ENOENT\)/,
    );
  });
});

describe('a full disk', () => {
  // a small (1 MB) tmpfs of our own (needs root, as CI runs; elsewhere the test says it cannot run)
  const disk = join(tmp, 'small-disk');
  let mounted = false;
  beforeAll(() => {
    mkdirSync(disk);
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]).status === 0;
  });
  afterAll(() => {
    if (mounted) spawnSync('umount', [disk]);
  });

  it('while checkpointing is exit 3 with one line; no temporary file is left and the last checkpoint stays', (ctx) => {
    if (!mounted) ctx.skip();
    const out = join(disk, 'run');
    // the narrow run's checkpoints (about 100 kB each, latest and best) fit; the wider run's (3 MB) do not
    const small = topdown([...TRAIN, '--hidden', '16', '--epochs', '1', '--out', out]);
    expect(small.code, small.err).toBe(0);
    const before = readFileSync(join(out, 'checkpoint.bin'));
    const wide = topdown([
      ...TRAIN,
      '--hidden',
      '512',
      '--epochs',
      '1',
      '--json',
      '--out',
      join(disk, 'wide'),
    ]);
    expect(wide.code, wide.err).toBe(3);
    expect(wide.err).toMatch(/cannot write .*: the disk is full \(ENOSPC\)/);
    oneLine(wide.err);
    expect(readdirSync(join(disk, 'wide')).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readFileSync(join(out, 'checkpoint.bin'))).toEqual(before);
  });
});

describe('sizes are bounded before anything is allocated', () => {
  it.each([
    [
      ['--hidden', '50000,50000'],
      /the 784-50000-50000-10 network needs about \d+\.\d GB, more than the \d+\.\d GB allowed/,
    ],
    [['--hidden', '100000000'], /layer 1 \(784 x 100000000\) would need 1.00e\+11 values in one array/],
    [['--hidden', '4000,4000', '--max-memory', '0.1'], /more than the 0.1 GB allowed \(--max-memory\)/],
  ])('train %j is one line', (args, message) => {
    const r = topdown([...TRAIN, ...args]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    oneLine(r.err);
  });

  it.each([
    [['--D', '100000000000'], /D = 100000000000 needs 5.00e\+11 values in one array/],
    [
      ['--D', '1000000', '--ode', '--max-memory', '0.01'],
      /D = 1000000 needs about 0.040 GB for the ODEs alone, more than the 0.010 GB allowed \(--max-memory\): lower D or --workers, or raise --max-memory/,
    ],
    [
      ['--D', '1000000', '--sim', '--rule', 'pepita,bp', '--workers', '2', '--max-memory', '0.1'],
      /needs about 0.22 GB with 2 simulations at once, more than the 0.10 GB allowed/,
    ],
    [
      ['--sim', '--D', '2', '--t-max', '1e11'],
      /tMax \* D = 2.00e\+11 steps per simulation, more than the 1.50e\+9 allowed .* or raise --max-steps/,
    ],
    [['--sim', '--D', '2', '--t-max', '1e11', '--max-steps', '1e10'], /more than the 1.00e\+10 allowed/],
  ])('theory %j is one line', (args, message) => {
    const r = topdown(['theory', ...args]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    oneLine(r.err);
  });

  it("a dataset file that inflates past the whole dataset's size is refused while inflating, with little memory taken", () => {
    const dataDir = join(tmp, 'bomb-data');
    writeSyntheticMnist(dataDir, 1, 20, 10);
    // 100 MB of zeros gzip to about 100 KB; the whole of MNIST is 55 MB
    const bomb = join(dataDir, 'mnist', 'train-images-idx3-ubyte.gz');
    writeFileSync(bomb, gzipSync(Buffer.alloc(100e6)));
    const bound = maxDatasetFileBytes(DATASETS.mnist);
    expect(bound).toBeLessThan(80e6);
    const r = topdown(['train', '--data-dir', dataDir, '--epochs', '1', '--out', join(tmp, 'bomb-run')]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(
      /train-images-idx3-ubyte.gz: inflates to more than 67 MiB, more than the whole dataset it should hold/,
    );
    oneLine(r.err);
  });

  it('a gzip that inflates past the bound is refused while inflating, and so is an oversized raw file', () => {
    const bomb = gzipSync(Buffer.alloc(4096));
    expect(() => gunzipIfNeeded(bomb, 'bomb.gz', 1000)).toThrow(
      /bomb.gz: inflates to more than .*, more than the whole dataset it should hold/,
    );
    expect(gunzipIfNeeded(bomb, 'fine.gz', 8192)).toHaveLength(4096);
    const raw = join(tmp, 'raw.bin');
    writeFileSync(raw, Buffer.alloc(2048));
    expect(() => readBytes(raw, 1024)).toThrow(
      /raw.bin: holds .*, more than the .* of the whole dataset it should hold/,
    );
  });
});

describe('one clear line for every fault', () => {
  it.each([
    // paths under /proc, where Node's recursive mkdir never returns
    [
      ['train', ...TRAIN.slice(1), '--out', '/proc/topdown-x'],
      2,
      /cannot write to the output folder \/proc\/topdown-x: no such file or folder/,
    ],
    [['eval', '/proc/topdown-x'], 2, /cannot open the run folder \/proc\/topdown-x/],
    [['train', '--resume', '/proc/topdown-x'], 2, /cannot open the run folder \/proc\/topdown-x/],
    [
      ['theory', '--ode', '--D', '20', '--t-max', '1', '--out', '/proc/topdown-y/z'],
      2,
      /\/proc\/topdown-y\/z/,
    ],
    // empty strings are refused, not read as "none"
    [['train', '--resume', ''], 2, /--resume needs a value, not an empty string/],
    [['train', ...TRAIN.slice(1), '--config', ''], 2, /--config needs a value/],
    [['train', ...TRAIN.slice(1), '--out', ''], 2, /--out needs a value/],
    [['show-samples', '--data-dir', data, '--out', ''], 2, /--out needs a value/],
    [['eval', ''], 2, /the run folder needs a value/],
    // numbers as a user types them: no hex, no empty list items; a threshold must be positive
    [['train', ...TRAIN.slice(1), '--lr', '0x10'], 2, /--lr must be a number >= 0/],
    [
      ['theory', '--ode', '--feedback-mix', '1,,2'],
      2,
      /--feedback-mix must be a comma-separated list of numbers/,
    ],
    [
      ['train', ...TRAIN.slice(1), '--rule', 'ff', '--ff-threshold', '-3'],
      2,
      /flags: --ff-threshold: Too small: expected number to be >0/,
    ],
  ] as [string[], number, RegExp][])('%j', (args, code, message) => {
    const r = topdown(args);
    expect(r.signal).toBeNull();
    expect(r.code, r.err).toBe(code);
    expect(r.err).toMatch(message);
    oneLine(r.err);
  });

  it('show-samples --out to a missing folder or onto a folder: one line, no stray temporary file', () => {
    const folder = join(tmp, 'a-folder');
    mkdirSync(folder);
    for (const out of [join(tmp, 'missing', 'x.png'), folder]) {
      const r = topdown(['show-samples', '--data-dir', data, '--count', '2', '--out', out]);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(/cannot write .*: (no such file or folder|it is a folder)/);
      oneLine(r.err);
    }
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('a full disk on stdout is exit 3 with one line; a reader closing the pipe early ends quietly', () => {
    const full = topdown([], { shell: `"${process.execPath}" "${cli}" info > /dev/full` });
    expect(full.code).toBe(3);
    expect(full.err).toMatch(/cannot write to the standard output: the disk is full \(ENOSPC\)/);
    oneLine(full.err);
    const pipe = topdown([], {
      shell: `"${process.execPath}" "${cli}" train --help | head -c 1 > /dev/null; echo done`,
    });
    expect(pipe.err).toBe('');
    expect(pipe.out).toBe('done\n');
  });

  it('config files: a __proto__ key is refused, a UTF-8 byte-order mark is fine', () => {
    const proto = join(tmp, 'proto.json');
    writeFileSync(proto, '{"__proto__": {"lr": 5}, "epochs": 1}');
    const r = topdown([...TRAIN, '--config', proto]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/config file .*proto.json: unknown option "__proto__"/);
    const bom = join(tmp, 'bom.json');
    writeFileSync(bom, '\uFEFF{"epochs": 1, "hidden": [8]}');
    const ok = topdown([...TRAIN, '--config', bom, '--dry-run']);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out).hidden).toEqual([8]);
  });

  it('a checkpoint with a flipped bit or non-finite values is refused, naming the tensor', () => {
    const out = join(tmp, 'flipped');
    expect(topdown([...TRAIN, '--out', out]).code).toBe(0);
    const path = join(out, 'checkpoint.bin');
    const original = readFileSync(path);
    const headerEnd = 12 + original.readUInt32LE(8);
    const cases: [number, RegExp][] = [
      [headerEnd + 5, /tensor network.W1 fails its checksum/], // a weight
      [original.length - 3, /fails its checksum/], // the last optimiser buffer
      [40, /its header fails its checksum/], // the header (its config)
    ];
    for (const [at, message] of cases) {
      const bytes = Buffer.from(original);
      bytes[at] = bytes[at]! ^ 0x10;
      writeFileSync(path, bytes);
      for (const args of [
        ['eval', out, '--data-dir', data],
        ['train', '--resume', out, '--data-dir', data],
      ]) {
        const r = topdown(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.err).toMatch(message);
        oneLine(r.err);
      }
    }
    const { header, tensors } = readCheckpointFile((writeFileSync(path, original), path));
    tensors[0]![3] = NaN;
    const { tensorLengths: _l, tensorChecksums: _c, headerChecksum: _h, ...rest } = header;
    void [_l, _c, _h];
    writeCheckpointFile(path, rest, tensors);
    const r = topdown(['eval', out, '--data-dir', data]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/tensor network.W1 holds NaN or infinite values/);
  });

  it('a resume on another engine or another dataset is allowed with a notice', () => {
    const out = join(tmp, 'moved');
    expect(topdown([...TRAIN, '--out', out, '--engine', 'js']).code).toBe(0);
    const env = readCheckpointFile(join(out, 'checkpoint.bin')).header.environment as Record<string, unknown>;
    expect(env).toMatchObject({ engine: 'js', threads: 1 });
    expect(env.dataset).toMatch(/^sha256:[0-9a-f]{64}$/);
    const other = join(tmp, 'other-data');
    writeSyntheticMnist(other, 10, 300, 100);
    const r = topdown([
      'train',
      '--resume',
      out,
      '--data-dir',
      other,
      '--epochs',
      '2',
      '--engine',
      'auto',
      '--threads',
      '2',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/notice: the dataset differs from the one this run was trained on/);
    if (availableEngines()[0]!.name === 'blas')
      expect(r.err).toMatch(
        /notice: this run was trained on the js engine with 1 thread\(s\), now blas with 2/,
      );
  });

  it('a checkpoint header without its model description is one line in eval, resume and show-samples', () => {
    const out = join(tmp, 'no-model');
    expect(topdown([...TRAIN, '--out', out]).code).toBe(0);
    // a well-formed checkpoint (checksums and all) whose header lacks the model description
    const { header, tensors } = readCheckpointFile(join(out, 'checkpoint.bin'));
    const { model: _model, tensorLengths: _l, tensorChecksums: _c, headerChecksum: _h, ...rest } = header;
    void [_model, _l, _c, _h];
    writeCheckpointFile(join(out, 'checkpoint.bin'), rest, tensors);
    for (const args of [
      ['eval', out, '--data-dir', data],
      ['train', '--resume', out, '--data-dir', data],
      ['show-samples', '--run', out, '--data-dir', data, '--out', join(tmp, 's.png')],
    ]) {
      const r = topdown(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/has no model description/);
      oneLine(r.err);
    }
  });

  it('a relative --data-dir is stored as the absolute folder it meant, so eval works from elsewhere', () => {
    const out = join(tmp, 'relative');
    const r = topdown([
      ...TRAIN.filter((a) => a !== data && a !== '--data-dir'),
      '--data-dir',
      'data',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).dataDir).toBe(data);
    const elsewhere = join(tmp, 'elsewhere');
    mkdirSync(elsewhere);
    const e = topdown(['eval', out], { cwd: elsewhere });
    expect(e.code, e.err).toBe(0);
    expect(existsSync(join(elsewhere, 'runs'))).toBe(false);
  });
});
