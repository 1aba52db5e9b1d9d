import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  encodeEvent,
  EventType,
  frameRecord,
  maskedCrc32c,
  readRecords,
  scalarTags,
  TfEventsWriter,
} from '../src/reports/tensorboard.js';

import { writeSyntheticMnist } from './train-helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'topdown-tb-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const rotr15PlusDelta = (crc: number) => (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;

describe('tfevents framing', () => {
  it('CRC32C matches the published check values (RFC 3720 B.4 and the "123456789" check)', () => {
    // the masked CRC is rotr(crc, 15) + 0xa282ead8 of these published CRC32C values
    const cases: [Uint8Array, number][] = [
      [new TextEncoder().encode('123456789'), 0xe3069283],
      [new Uint8Array(32), 0x8a9136aa],
      [new Uint8Array(32).fill(0xff), 0x62a8ab43],
      [Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    ];
    for (const [bytes, crc] of cases) expect(maskedCrc32c(bytes)).toBe(rotr15PlusDelta(crc));
  });

  it('a record is length, its masked CRC, the data and its masked CRC; damage is detected', () => {
    const data = new TextEncoder().encode('123456789');
    const record = frameRecord(data);
    expect(record.length).toBe(8 + 4 + 9 + 4);
    const view = new DataView(record.buffer);
    expect(view.getBigUint64(0, true)).toBe(9n);
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(record.subarray(0, 8)));
    expect(view.getUint32(21, true)).toBe(rotr15PlusDelta(0xe3069283));
    expect(readRecords(record)).toEqual([data]);
    const damaged = record.slice();
    damaged[14]! ^= 1;
    expect(() => readRecords(damaged)).toThrow(/bad data CRC/);
    expect(() => readRecords(record.subarray(0, 20))).toThrow(/truncated/);
  });

  it('events encode as TensorFlow protobufs (checked against bytes written by hand)', () => {
    // Event { wall_time (1, double) = 1.5, file_version (3, string) = "brain.Event:2" }
    const expected = Uint8Array.from([
      0x09,
      0,
      0,
      0,
      0,
      0,
      0,
      0xf8,
      0x3f,
      0x1a,
      13,
      ...new TextEncoder().encode('brain.Event:2'),
    ]);
    expect(encodeEvent({ wallTime: 1.5, fileVersion: 'brain.Event:2' })).toEqual(expected);
    // Event { wall_time = 0.5, step (2, varint) = 3, summary (5) { value (1) { tag (1) = "a", simple_value (2, float) = 2 } } }
    const scalar = Uint8Array.from([
      0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0x10, 3, 0x2a, 10, 0x0a, 8, 0x0a, 1, 0x61, 0x15, 0, 0, 0, 0x40,
    ]);
    expect(encodeEvent({ wallTime: 0.5, step: 3, scalars: { a: 2 } })).toEqual(scalar);
  });

  it('the writer appends a file-version event then one event per step, each fsynced', () => {
    const dir = join(tmp, 'w');
    const w = new TfEventsWriter(dir, 1_700_000_000_000);
    w.scalars(1, { test_acc: 0.5, bad: NaN }, 1_700_000_001_000);
    w.scalars(2, { test_acc: 0.75 }, 1_700_000_002_000);
    w.close();
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^events\.out\.tfevents\.1700000000\./);
    const events = readRecords(readFileSync(join(dir, file!))).map((r) =>
      EventType.toObject(EventType.decode(r), { longs: Number }),
    );
    expect(events[0]).toMatchObject({ fileVersion: 'brain.Event:2', wallTime: 1_700_000_000 });
    expect(events[1]).toMatchObject({ step: 1, summary: { value: [{ tag: 'test_acc', simpleValue: 0.5 }] } });
    expect(events[2]).toMatchObject({
      step: 2,
      summary: { value: [{ tag: 'test_acc', simpleValue: 0.75 }] },
    });
  });

  it('metrics lines become tags, per-layer lists indexed from 1', () => {
    expect(
      scalarTags({ epoch: 3, test_acc: 0.9, goodness_pos: [1, 2], seconds: 4, phase: 'x', note: 'text' }),
    ).toEqual({ test_acc: 0.9, 'goodness_pos/1': 1, 'goodness_pos/2': 2, 'time/seconds': 4 });
  });

  it('train --tensorboard writes every epoch of the run as events', () => {
    const data = join(tmp, 'data');
    writeSyntheticMnist(data, 2, 200, 50);
    const out = join(tmp, 'run');
    const args = [
      'train',
      '--data-dir',
      data,
      '--hidden',
      '8',
      '--epochs',
      '2',
      '--out',
      out,
      '--tensorboard',
    ];
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(join(out, 'tensorboard'));
    expect(files).toHaveLength(1);
    const events = readRecords(readFileSync(join(out, 'tensorboard', files[0]!))).map((b) =>
      EventType.toObject(EventType.decode(b), { longs: Number }),
    );
    expect(events.map((e) => e.step ?? null)).toEqual([null, 1, 2]);
    const tags = (events[2]!.summary.value as { tag: string }[]).map((v) => v.tag);
    expect(tags).toEqual(
      expect.arrayContaining(['test_acc', 'train_loss', 'angle_deg', 'time/samples_per_s']),
    );
  });
});
