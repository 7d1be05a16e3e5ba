/**
 * How much a start costs the ledger process itself, whatever the host's load: spawns the built
 * ledger on a data directory (`empty` for a fresh one) with READ_MODEL_CHECK=off (to time the boot
 * alone), polls `path` until it answers 200, and prints the wall time and the process's CPU time
 * (user + system, every thread) up to that answer.
 *
 *   npx tsx bench/boot-cpu.ts <dataDir|empty> <path> [apiKey]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ledgerMain, processCpuUs } from './http';

async function main(): Promise<void> {
  const [dir = 'empty', path = '/health', key = ''] = process.argv.slice(2);
  const dataDir = dir === 'empty' ? mkdtempSync(join(tmpdir(), 'nrm-boot-')) : dir;
  const port = 47000 + Math.floor(Math.random() * 1000);
  const started = performance.now();
  const child = spawn(process.execPath, [ledgerMain()], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      READ_MODEL_CHECK: 'off',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the ledger exited with ${child.exitCode}`);
      const answer = await fetch(`http://127.0.0.1:${port}${path}`, {
        headers: { authorization: `Bearer ${key}`, 'x-purpose': 'assistance' },
      }).catch(() => undefined);
      if (answer?.ok) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const wall = performance.now() - started;
    const cpu = (processCpuUs(child.pid!) ?? NaN) / 1000;
    console.log(
      `${dir}: first ${path} 200 after ${Math.round(wall)} ms wall, ${Math.round(cpu)} ms CPU of the ledger process`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    if (dir === 'empty') rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
