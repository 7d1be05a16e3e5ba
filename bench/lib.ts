import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import type { NewEvent } from '@nrm/event-store';
import { randomUUID } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Latency samples in nanoseconds, summarised as the benchmarks print them. */
export interface Figures {
  readonly ops: number;
  readonly opsPerSec: number;
  readonly eventsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export function summarise(samplesNs: readonly bigint[], eventsPerOp: number): Figures {
  const sorted = [...samplesNs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const totalNs = sorted.reduce((sum, s) => sum + s, 0n);
  const seconds = Number(totalNs) / 1e9;
  const at = (q: number): number =>
    Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0n) / 1e6;
  const opsPerSec = sorted.length / seconds;
  return {
    ops: sorted.length,
    opsPerSec: round(opsPerSec),
    eventsPerSec: round(opsPerSec * eventsPerOp),
    p50Ms: round(at(0.5), 4),
    p99Ms: round(at(0.99), 4),
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** How many fdatasync calls per second this machine's disk does (context for durable appends). */
export function fdatasyncPerSecond(dir: string, seconds = 1): number {
  const file = join(dir, 'fdatasync.probe');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  let count = 0;
  const until = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  while (process.hrtime.bigint() < until) {
    writeSync(fd, block, 0, block.length, 0);
    fdatasyncSync(fd);
    count++;
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  closeSync(fd);
  rmSync(file, { force: true });
  return round(count / elapsed);
}

export function benchDir(name: string): string {
  // Under the working tree's disk rather than a tmpfs, so fsync costs what it costs in production.
  const dir = join(process.env.BENCH_DIR ?? join(process.cwd(), 'bench', '.work'), `${name}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function environment() {
  return {
    node: process.version,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    date: new Date().toISOString(),
    tmp: tmpdir(),
  };
}

export function writeResult(name: string, result: object): string {
  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** A result as written by `writeResult`, read back as plain JSON (the chart and the report). */
export type ResultJson = Record<string, unknown>;

export function readResult(name: string): ResultJson | undefined {
  const file = join(process.cwd(), 'bench', 'results', `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ResultJson) : undefined;
}

/** An invented referral event of a realistic size, the same in every append benchmark. */
export function inventedEvent(i: number): NewEvent {
  return {
    id: randomUUID(),
    type: 'ReferralMade',
    schemaVersion: 1,
    data: {
      fromAgency: 'ngo-7',
      toAgency: 'shelter-2',
      purpose: 'assistance',
      services: ['accommodation', 'medical'],
      urgency: 'high',
      seq: i,
    },
    metadata: {
      correlationId: randomUUID(),
      principalId: 'principal-3',
      agencyId: 'ngo-7',
      occurredAt: new Date().toISOString(),
    },
  };
}
