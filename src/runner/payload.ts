/**
 * What a queued run carries, checked before a worker does anything with it. A queue is a trust boundary: a
 * job's payload may have been edited in Redis, damaged, or written by something else. The payload must have
 * the shape an enqueuer writes, its configuration must pass the same checks as a config file, and its run id
 * (which names its folder) must be the one recomputed from that configuration: so a payload can neither name
 * a folder outside the results directory nor pass another run's results off as its own.
 */
import { z } from 'zod';

import { TopdownUsageError } from '../core/errors.js';
import { printable, quoted } from '../core/untrusted.js';
import { resolveTheoryProblem, THEORY_RULES } from '../theory/problem.js';
import { resolveTrainConfig } from '../train/config.js';
import { RUN_ID_PATTERN, runId, theoryRunId, type Job } from './job.js';

/** Changes when the payload of a queued run changes shape. */
export const PROTOCOL = 1;

/** What a queued run carries. */
export interface QueuedRun {
  job: Job;
  /** The enqueuer's topdown version: a worker of another version does not make the run. */
  topdown: string;
  protocol: number;
}

/** Longest label a payload may carry (labels are shown on one line). */
const MAX_LABEL = 1000;

const ENVELOPE = z.object({
  job: z.unknown(),
  topdown: z.string().max(100),
  protocol: z.number(),
});

const BASE = {
  id: z.string().regex(RUN_ID_PATTERN, 'must be 16 hex digits'),
  label: z.string().max(MAX_LABEL),
  seed: z.number().int().nonnegative(),
};

const JOB = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('train'), ...BASE, config: z.record(z.string(), z.unknown()) }).strict(),
  z
    .object({
      kind: z.literal('theory'),
      ...BASE,
      problem: z.record(z.string(), z.unknown()),
      rules: z.array(z.enum(THEORY_RULES)).min(1).max(THEORY_RULES.length),
      seeds: z.number().int().min(1).max(100_000),
    })
    .strict(),
]);

/** The enqueuer's version and protocol of a payload, read before the rest is checked (or null: not a payload). */
export function payloadVersion(data: unknown): { topdown: string; protocol: number; label: string } | null {
  const envelope = ENVELOPE.safeParse(data);
  if (!envelope.success) return null;
  const job = envelope.data.job as { label?: unknown } | null;
  const label = typeof job?.label === 'string' ? job.label.slice(0, MAX_LABEL) : '(no label)';
  return { topdown: envelope.data.topdown, protocol: envelope.data.protocol, label };
}

/**
 * Checks a queued run's payload, as read from the queue (`source` names it in messages, e.g. `queued run
 * abc-e5`): its shape, its configuration (the same checks as a config file), and its run id against the one
 * its configuration gives. Returns the run with its configuration resolved, or throws one line.
 */
export function parseQueuedRun(data: unknown, source: string): QueuedRun {
  const forbidden = forbiddenKey(data);
  if (forbidden) throw new TopdownUsageError(`${source}: ${forbidden}`);
  const envelope = ENVELOPE.safeParse(data);
  if (!envelope.success) throw new TopdownUsageError(`${source}: ${describe(envelope.error, data)}`);
  const parsed = JOB.safeParse(envelope.data.job);
  if (!parsed.success) {
    throw new TopdownUsageError(`${source}: ${describe(parsed.error, envelope.data.job, 'job')}`);
  }
  const raw = parsed.data;
  let job: Job;
  let expected: string;
  if (raw.kind === 'train') {
    const config = resolveTrainConfig(raw.config, `${source}: job.config`);
    if (config.seed !== raw.seed) {
      throw new TopdownUsageError(`${source}: job.seed ${raw.seed} is not its config's seed ${config.seed}`);
    }
    job = { ...raw, config };
    expected = runId(config);
  } else {
    const problem = resolveTheoryProblem(raw.problem, `${source}: job.problem`);
    if (problem.seed !== raw.seed) {
      throw new TopdownUsageError(
        `${source}: job.seed ${raw.seed} is not its problem's seed ${problem.seed}`,
      );
    }
    job = { ...raw, problem };
    expected = theoryRunId(problem, raw.rules, raw.seeds);
  }
  if (expected !== raw.id) {
    throw new TopdownUsageError(
      `${source}: job.id ${raw.id} is not the id of its configuration (${expected}): the payload was edited or damaged`,
    );
  }
  return { job, topdown: envelope.data.topdown, protocol: envelope.data.protocol };
}

/** A key that must never come from outside (`__proto__`, `constructor`, `prototype`), anywhere in `value`. */
function forbiddenKey(value: unknown, path = '', depth = 0): string | null {
  if (depth > 64) return `nested deeper than 64 levels at ${path || '(root)'}`;
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      return `holds a key ${quoted(key)} (at ${printable(at)}), which no payload has`;
    }
    const inner = forbiddenKey(child, at, depth + 1);
    if (inner) return inner;
  }
  return null;
}

/** One line for the first problem zod found: the field's path and what is wrong with it. */
function describe(error: z.ZodError, value: unknown, prefix = ''): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    const text = typeof value === 'string' ? ` (${quoted(value)}: not JSON?)` : '';
    return `${prefix || 'the payload'} is ${what}${text}, not a queued run`;
  }
  const issue = error.issues[0]!;
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return `${path}: unknown field(s) ${issue.keys.map((k) => quoted(k)).join(', ')}`;
  }
  let at: unknown = value;
  for (const key of issue.path) at = (at as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  if (at === undefined) return `${printable(path)} is missing`;
  return `${printable(path)} ${quoted(at)}: ${issue.message}`;
}
