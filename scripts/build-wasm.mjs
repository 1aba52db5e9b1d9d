// Compiles the `wasm` engine's kernels (assembly/, AssemblyScript) into wasm/: four variants, with plain or
// relaxed SIMD, for a shared memory (threads) or an unshared one (browsers without cross-origin isolation).
// Runs inside `npm run build`; needs only the assemblyscript npm package.
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

import asc from 'assemblyscript/asc';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}wasm`;
mkdirSync(out, { recursive: true });

const variants = [
  { name: 'simd-shared', features: ['simd', 'threads'], shared: true },
  { name: 'relaxed-shared', features: ['simd', 'relaxed-simd', 'threads'], shared: true },
  { name: 'simd', features: ['simd'], shared: false },
  { name: 'relaxed', features: ['simd', 'relaxed-simd'], shared: false },
];

for (const v of variants) {
  const args = [
    `${root}assembly/index.ts`,
    '--outFile',
    `${out}/kernels-${v.name}.wasm`,
    '--runtime',
    'stub',
    '--noAssert',
    '--optimizeLevel',
    '3',
    '--shrinkLevel',
    '0',
    '--importMemory',
    '--initialMemory',
    '1',
    '--maximumMemory',
    '65536',
    '--use',
    'abort=',
    ...v.features.flatMap((f) => ['--enable', f]),
    ...(v.shared ? ['--sharedMemory'] : []),
  ];
  const { error, stderr } = await asc.main(args);
  if (error) {
    console.error(stderr.toString());
    console.error(`build-wasm: ${v.name}: ${error.message}`);
    process.exit(1);
  }
  if (hasDataSegments(readFileSync(`${out}/kernels-${v.name}.wasm`))) {
    // every thread instantiates the module over the one shared memory: data segments would be rewritten
    console.error(
      `build-wasm: ${v.name}: the kernels must not have static data (a data section was emitted)`,
    );
    process.exit(1);
  }
}

/** True when the module has a non-empty data section (section id 11). */
function hasDataSegments(bytes) {
  let at = 8;
  const leb = () => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[at++];
      value |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return value >>> 0;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 11 && leb() > 0) return true;
    at = end;
  }
  return false;
}
console.log(`build-wasm: ${variants.length} kernel variants in wasm/`);
