// Marks the CLI entry point executable after tsc writes it (npm links bins before `prepare` builds them, so a
// fresh `npm ci` would otherwise leave dist/cli/main.js without the exec bit and `npx topdown` would fail).
import { chmodSync } from 'node:fs';
import { URL } from 'node:url';

chmodSync(new URL('../dist/cli/main.js', import.meta.url), 0o755);
