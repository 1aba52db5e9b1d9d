/** How much memory this process may use, for size checks made before anything large is allocated. */

/** The largest number of elements one typed array can hold here. */
export const MAX_ARRAY_ELEMENTS = 2 ** 32 - 1;

/** Where Node's own modules cannot be reached (a browser): the most one WebAssembly memory can hold. */
const WITHOUT_NODE = 4 * 2 ** 30;

interface NodeModules {
  os: { totalmem(): number };
  fs: { readFileSync(path: string, encoding: 'utf8'): string };
}

/** Node's os and fs, reached without an import so that this module also runs in browsers. */
function nodeModules(): NodeModules | null {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  const os = get?.('node:os') as NodeModules['os'] | undefined;
  const fs = get?.('node:fs') as NodeModules['fs'] | undefined;
  return os && fs ? { os, fs } : null;
}

/** The memory this process may use: the machine's, or the container's limit when lower (cgroup v2 and v1). */
export function availableMemory(): number {
  const node = nodeModules();
  if (!node) return WITHOUT_NODE;
  let limit = node.os.totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const value = Number(node.fs.readFileSync(file, 'utf8').trim());
      if (Number.isFinite(value) && value > 0) limit = Math.min(limit, value);
    } catch {
      // not in such a container
    }
  }
  return limit;
}
