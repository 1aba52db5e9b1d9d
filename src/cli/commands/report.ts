import { resolve as resolvePath } from 'node:path';

import type { Command } from 'commander';

import { writeReport } from '../../reports/report.js';
import type { CliIO } from '../io.js';
import { nonEmpty } from '../parse.js';

export function registerReportCommand(program: Command, io: CliIO): void {
  program
    .command('report <dir>')
    .description(
      'aggregate a results directory (written by topdown reproduce) into report.md and report.json, beside the published numbers; works while runs are going',
    )
    .option('--out <dir>', 'write the report there (default: the results directory)', nonEmpty('--out'))
    .option('--json', 'print report.json on stdout too')
    .action(async (dir: string, flags: { out?: string; json?: boolean }) => {
      const out = resolvePath(dir);
      const target = flags.out ? resolvePath(flags.out) : out;
      const report = await writeReport(out, target);
      const done = report.cells.filter((c) => c.seeds > 0).length;
      const theory = new Set(report.theory.map((t) => `${t.experiment}/${t.cell}`)).size;
      const extra = theory ? `, ${theory} theory cell${theory === 1 ? '' : 's'}` : '';
      io.err(
        `wrote ${target}/report.md and report.json: ${report.cells.length} cells, ${done} with results${extra}\n`,
      );
      if (flags.json) io.out(JSON.stringify(report) + '\n');
    });
}
