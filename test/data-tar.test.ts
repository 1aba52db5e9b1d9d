import { describe, expect, it } from 'vitest';

import { DataFormatError, readTar } from '../src/data/index.js';

import { patternBytes, tarArchive } from './data-fixtures.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('readTar', () => {
  it('lists regular files, skipping directories, with ./ stripped and sizes not multiple of 512', () => {
    const big = patternBytes(1500, 4);
    const tar = tarArchive([
      { name: './cifar/', type: '5' },
      { name: './cifar/a.bin', data: big },
      { name: 'cifar/empty.txt', data: new Uint8Array(0) },
      { name: 'cifar/b.txt', data: text('hello') },
    ]);
    const files = readTar(tar, 'x.tar');
    expect([...files.keys()]).toEqual(['cifar/a.bin', 'cifar/empty.txt', 'cifar/b.txt']);
    expect(Buffer.from(files.get('cifar/a.bin')!).equals(Buffer.from(big))).toBe(true);
    expect(new TextDecoder().decode(files.get('cifar/b.txt'))).toBe('hello');
    expect(files.get('cifar/empty.txt')!.length).toBe(0);
  });

  it('joins the ustar prefix field and reads GNU long names', () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(90)}.bin`;
    for (const gnuLongNames of [false, true]) {
      const files = readTar(
        tarArchive(
          [
            { name: long, data: text('x') },
            { name: 'short', data: text('y') },
          ],
          { gnuLongNames },
        ),
        't',
      );
      expect([...files.keys()]).toEqual([long, 'short']);
    }
    const longer = 'e'.repeat(300);
    expect([...readTar(tarArchive([{ name: longer, data: text('z') }]), 't').keys()]).toEqual([longer]);
  });

  it('reads a PAX path record', () => {
    const path = `pax/${'p'.repeat(150)}`;
    const record = ` path=${path}\n`;
    let length = record.length + 3;
    length = `${length}${record}`.length;
    const pax = text(`${length}${record}`);
    const tar = tarArchive([
      { name: 'PaxHeader', data: pax, type: 'x' },
      { name: 'truncated-name', data: text('q') },
    ]);
    expect([...readTar(tar, 't').keys()]).toEqual([path]);
  });

  it('accepts an archive without end blocks but rejects corrupt headers and truncated members', () => {
    const tar = tarArchive([{ name: 'a', data: patternBytes(700, 1) }]);
    expect(readTar(tar.subarray(0, 512 * 3), 't').size).toBe(1);
    const bad = tar.slice();
    bad[10] = bad[10]! ^ 1;
    expect(() => readTar(bad, 'bad.tar')).toThrow(DataFormatError);
    expect(() => readTar(bad, 'bad.tar')).toThrow(
      /^bad.tar: not a tar archive or corrupt tar header at byte 0$/,
    );
    expect(() => readTar(tar.subarray(0, 512 + 300), 'cut.tar')).toThrow(/cut.tar: truncated tar archive/);
    expect(() => readTar(tar.subarray(0, 512 * 3 + 10), 'odd.tar')).toThrow(/10 stray bytes/);
  });
});
