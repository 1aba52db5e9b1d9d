// Writes the README's generated tables (rules, options, defaults) from the built library; run `npm run docs`.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

import { withGeneratedTables } from '../dist/cli/docs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = `${root}README.md`;
writeFileSync(readme, withGeneratedTables(readFileSync(readme, 'utf8')));
execFileSync(process.execPath, [`${root}node_modules/prettier/bin/prettier.cjs`, '--write', readme], {
  stdio: 'inherit',
});
