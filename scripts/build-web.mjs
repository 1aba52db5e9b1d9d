// Builds the browser app (web/) into dist/web with Vite, and copies the wasm kernels beside it (dist/web/wasm).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({ configFile: join(root, 'web', 'vite.config.ts') });
const out = join(root, 'dist', 'web');
mkdirSync(join(out, 'wasm'), { recursive: true });
for (const f of readdirSync(join(root, 'wasm')).filter((f) => f.endsWith('.wasm')))
  cpSync(join(root, 'wasm', f), join(out, 'wasm', f));
// the app runs in a browser: a Node module reaching the bundle would fail there, so it fails the build here
for (const f of readdirSync(join(out, 'assets'))) {
  const text = readFileSync(join(out, 'assets', f), 'utf8');
  const hit = /__vite-browser-external|from\s*["']node:[a-z_]+["']/.exec(text);
  if (hit) {
    console.error(`build-web: ${f} imports a Node module (${hit[0]}): the browser app must not`);
    process.exit(1);
  }
}
if (!existsSync(join(out, 'index.html'))) process.exit(1);
