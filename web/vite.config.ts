import { defineConfig } from 'vite';

// The browser app: built into dist/web (served by `topdown web`), relative paths so it works from any folder.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  worker: { format: 'es' },
  logLevel: 'warn',
});
