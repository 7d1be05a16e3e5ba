import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The console's policy: its own scripts, styles and API only. No inline script or style, no
 * framing (clickjacking on a shared office PC), no form posting elsewhere, no plugins.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/**
 * Serves the built web console (apps/console, `npm run build:console`) at /console/ as static
 * files, when CONSOLE_DIR holds a build. It is a client of the public API like any other: it
 * gets no route, no credential and no read that curl would not.
 */
export async function serveConsole(app: NestFastifyApplication, consoleDir: string): Promise<boolean> {
  const root = resolve(consoleDir);
  if (!existsSync(resolve(root, 'index.html'))) return false;
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.register(fastifyStatic, {
    root,
    prefix: '/console/',
    // Swagger UI registers @fastify/static too: only one may decorate the reply.
    decorateReply: false,
    index: ['index.html'],
    // Our own cache-control below: index.html revalidated, hashed assets kept.
    cacheControl: false,
    // index.html must be fetched again after an upgrade; hashed assets may be kept.
    setHeaders: (response, path) => {
      for (const [name, value] of Object.entries(CONSOLE_HEADERS)) response.setHeader(name, value);
      response.setHeader(
        'cache-control',
        path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
    },
  });
  fastify.get('/console', (_request, reply) => reply.redirect('/console/', 302));
  return true;
}
