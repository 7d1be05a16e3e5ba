import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { SqliteEventStore } from '@nrm/event-store';
import { freePort, Ledger, Principal } from './harness';

const ROOT = join(__dirname, '..', '..');
const REPORT = { indicators: ['debt-bondage'], exploitationForms: ['labour'], minor: false, region: 'NL-ZH' };
const COMMANDS = 30;

/**
 * An OTLP endpoint that is down (a closed port) or hangs (accepts, never answers) must not fail
 * or hold up a command: the batch span processor exports in the background and drops what it
 * cannot send. The API runs as its own process (`main.ts`), configured only by OTEL_* variables,
 * as in production (the OTLP exporter loads its HTTP client in a way Jest's module sandbox lacks).
 */
describe('tracing with the OTLP collector down (e2e)', () => {
  async function run(endpoint: string): Promise<{ ok: number; exit: string; stored: number }> {
    // Register a caseworker in a fresh data directory, then hand the directory to the API process.
    const ledger = await Ledger.boot();
    const principal = await ledger.principal('health', ['caseworker']);
    await ledger.app.close();
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'apps/ledger-api/src/main.ts',
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATA_DIR: ledger.dataDir,
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'error',
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_SERVICE_NAME: 'nrm-ledger-e2e',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
          OTEL_BSP_SCHEDULE_DELAY: '20',
        },
        stdio: 'pipe',
      },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let tries = 0; ; tries++) {
        if (child.exitCode !== null) throw new Error(`the API exited: ${stderr}`);
        if (/listening on/.test(stderr)) break;
        if (tries > 600) throw new Error(`the API did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const caller = new Principal(base, principal.agencyId, principal.principalId, principal.apiKey);
      let ok = 0;
      for (let i = 0; i < COMMANDS; i++) {
        if ((await caller.post('/cases', REPORT)).status === 201) ok++;
        // Let the batch processor's timer fire between requests, so exports run while requests do.
        if (i % 5 === 4) await new Promise((r) => setTimeout(r, 30));
      }
      child.kill('SIGTERM');
      // It stops on SIGTERM (Nest re-raises the signal once closed) and does not hang on the collector.
      const exit = await new Promise<string>((r) =>
        child.once('exit', (code, signal) => r(signal ?? `code ${code}`)),
      );
      // Every acknowledged command's event is in the store the API left behind.
      const store = new SqliteEventStore({ filename: join(ledger.dataDir, 'events.sqlite') });
      let stored = 0;
      try {
        for await (const e of store.readAll({ filter: { eventTypes: ['PotentialVictimReported'] } }))
          if (e.type === 'PotentialVictimReported') stored++;
      } finally {
        await store.close();
      }
      return { ok, exit, stored };
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(ledger.dataDir, { recursive: true, force: true });
    }
  }

  it('answers every command while the collector port is closed', async () => {
    const closed = await freePort(); // nothing listens there
    const { ok, exit, stored } = await run(`http://127.0.0.1:${closed}`);
    console.log(
      `tracing collector closed port: ${ok}/${COMMANDS} commands answered 201, ${stored} events stored; API stopped by ${exit}`,
    );
    expect(ok).toBe(COMMANDS);
    expect(stored).toBe(ok);
    expect(['SIGTERM', 'code 0']).toContain(exit);
  });

  it('answers every command while the collector accepts connections and never answers', async () => {
    const sockets = new Set<Socket>();
    let connections = 0;
    let bytes = 0;
    const hang = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('data', (d: Buffer) => (bytes += d.length));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const { port } = hang.address() as { port: number };
    try {
      const { ok, exit, stored } = await run(`http://127.0.0.1:${port}`);
      console.log(
        `tracing collector hanging: ${ok}/${COMMANDS} commands answered 201, ${stored} events stored; ${connections} export connections, ${bytes} bytes sent and never answered; API stopped by ${exit}`,
      );
      expect(ok).toBe(COMMANDS);
      expect(stored).toBe(ok);
      // The exporter did try: the test would pass vacuously if the API had not been exporting.
      expect(connections).toBeGreaterThan(0);
      expect(bytes).toBeGreaterThan(0);
      expect(['SIGTERM', 'code 0']).toContain(exit);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hang.close(r));
    }
  });
});
