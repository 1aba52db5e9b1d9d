/**
 * The README's generated tables: the rules, their option flags and the training settings each rule
 * defaults to, all derived from the registry and the schemas (`npm run docs` writes them into README.md
 * between `<!-- generated:NAME -->` markers; a test checks they are current).
 */
import { kebab } from '../core/options.js';
import { optionSections, RULES } from '../rules/registry.js';
import type { RuleDefinition } from '../rules/rule.js';
import { coreFields, resolveTrainConfig } from '../train/config.js';

import { benchFields } from './commands/bench-train.js';
import { flagsMarkdown, sectionFlags } from './schema-flags.js';

const code = (s: string): string => `\`${s}\``;

/** Each rule: name, what it is, the option flags it reads. */
function rulesTable(): string {
  const lines = ['| rule | what it is | its options |', '| --- | --- | --- |'];
  for (const def of RULES as readonly RuleDefinition[]) {
    const flags = sectionFlags(def.sections).map(({ field }) => code(`--${field.flag}`));
    lines.push(`| ${code(def.name)} | ${def.description} | ${flags.join(', ') || 'none'} |`);
  }
  return lines.join('\n');
}

/** The training settings each rule (and variant) uses by default on MNIST where they differ from the schema's. */
function ruleDefaultsTable(): string {
  const base = resolveTrainConfig({}, 'defaults');
  const lines = ['| rule | its defaults (on MNIST) |', '| --- | --- |'];
  for (const def of RULES as readonly RuleDefinition[]) {
    const configs: [string, Record<string, unknown>][] = [
      [def.name, { rule: def.name }],
      ...(def.variants ?? []).map(
        (v) => [v.label, { rule: def.name, ...v.options }] as [string, Record<string, unknown>],
      ),
    ];
    for (const [label, input] of configs) {
      const c = resolveTrainConfig(input, 'defaults');
      const diff = coreFields()
        .filter((f) => f.name !== 'rule' && JSON.stringify(c[f.name]) !== JSON.stringify(base[f.name]))
        .map((f) => code(`--${kebab(f.name)} ${String(c[f.name])}`));
      if (diff.length) lines.push(`| ${code(label)} | ${diff.join(', ')} |`);
    }
  }
  return lines.join('\n');
}

/** Every generated table by marker name. */
export function readmeTables(): Record<string, string> {
  return {
    rules: rulesTable(),
    'train-options': flagsMarkdown(coreFields().map((field) => ({ field }))),
    'rule-options': flagsMarkdown(sectionFlags(optionSections())),
    'rule-defaults': ruleDefaultsTable(),
    'bench-train-options': flagsMarkdown(benchFields()),
  };
}

/** `text` with the content between each `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` replaced. */
export function withGeneratedTables(text: string, tables: Record<string, string> = readmeTables()): string {
  let out = text;
  for (const [name, table] of Object.entries(tables)) {
    const start = `<!-- generated:${name} -->`;
    const end = `<!-- /generated:${name} -->`;
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`README has no ${start} ... ${end} block`);
    out = `${out.slice(0, i + start.length)}\n\n${table}\n\n${out.slice(j)}`;
  }
  return out;
}
