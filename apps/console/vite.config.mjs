// Builds apps/console into dist/console, which the ledger serves at /console/ (CONSOLE_DIR).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  // React's automatic JSX runtime, compiled by Vite's own transformer: no plugin needed for a build.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: process.env.CONSOLE_OUT_DIR ?? fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill is for browsers older than the target; leaving it out keeps the entry smaller.
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    // `npx vite --config apps/console/vite.config.mjs` while a ledger runs on :3000.
    proxy: Object.fromEntries(
      ['/cases', '/referrals', '/coordinator', '/oversight', '/subjects', '/agencies', '/audit'].map((p) => [
        p,
        'http://127.0.0.1:3000',
      ]),
    ),
  },
});
