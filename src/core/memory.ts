/** How much memory this process may use, for size checks made before anything large is allocated. */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/** The largest number of elements one typed array can hold here. */
export const MAX_ARRAY_ELEMENTS = 2 ** 32 - 1;

/** The memory this process may use: the machine's, or the container's limit when lower (cgroup v2 and v1). */
export function availableMemory(): number {
  let limit = totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const value = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(value) && value > 0) limit = Math.min(limit, value);
    } catch {
      // not in such a container
    }
  }
  return limit;
}
