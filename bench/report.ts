/**
 * `npm run bench:report`: the table of BENCHMARKS.md, rewritten from the JSON
 * results between its markers, and the chart beside it. Run after
 * `npm run bench` (which calls it), so the document shows what was measured.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { renderChart } from './chart';
import { readResult, type ResultJson } from './lib';

type Json = ResultJson;
const START = '<!-- results:start -->';
const END = '<!-- results:end -->';

const n = (value: unknown, digits = 0): string =>
  typeof value === 'number' ? value.toLocaleString('en-GB', { maximumFractionDigits: digits }) : '–';
const text = (value: unknown): string =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : '?';
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});
const verdict = (ratio: unknown, aim: number, higherIsBetter = true): string =>
  typeof ratio !== 'number' ? '–' : (higherIsBetter ? ratio >= aim : ratio <= aim) ? 'met' : '**short**';

export function resultTable(): string {
  const rows: string[][] = [];
  const append = readResult('append');
  for (const r of (append?.results as Json[] | undefined) ?? []) {
    const ours = obj(r.ours);
    const base = obj(r.baseline);
    const batch = r.shape === 'batch100';
    rows.push([
      `${batch ? 'append-batch' : 'append'} (${String(r.mode)})`,
      `${n(ours.eventsPerSec)} events/s, p50 ${n(ours.p50Ms, 3)} ms, p99 ${n(ours.p99Ms, 3)} ms`,
      `${n(base.eventsPerSec)} events/s, p50 ${n(base.p50Ms, 3)} ms`,
      n(r.ratio, 2),
      '≥ 0.8',
      verdict(r.ratio, 0.8),
    ]);
  }
  const durable = obj(append?.durable);
  if (append) {
    rows.push([
      'durable (one writer, FULL)',
      `${n(durable.appendsPerSec)} appends/s`,
      `${n(durable.fdatasyncPerSec)} fdatasync/s`,
      n(durable.ratio, 2),
      '≥ 0.5',
      verdict(durable.ratio, 0.5),
    ]);
    const concurrent = obj(durable.concurrent);
    rows.push([
      'durable (16 writers, FULL)',
      `${n(concurrent.appendsPerSec)} appends/s`,
      `${n(durable.fdatasyncPerSec)} fdatasync/s`,
      n(concurrent.ratio, 2),
      '≥ 0.5',
      verdict(concurrent.ratio, 0.5),
    ]);
  }
  for (const name of ['command', 'query']) {
    const r = readResult(name);
    if (!r) continue;
    const ours = obj(r.ours);
    const base = obj(r.baseline);
    // The server's CPU per request beside the throughput: the figure least moved by a busy host.
    const cpu = (run: Json) =>
      typeof run.cpuUsPerRequest === 'number' ? `, ${n(run.cpuUsPerRequest)} µs CPU/req` : '';
    const store = obj(r.store);
    rows.push([
      typeof store.events === 'number' ? `${name} (store of ${n(store.events)} events)` : name,
      `${n(ours.requestsPerSec)} req/s${cpu(ours)}, p50 ${n(ours.p50Ms)} ms, p99 ${n(ours.p99Ms)} ms`,
      `${n(base.requestsPerSec)} req/s${cpu(base)}, p50 ${n(base.p50Ms)} ms`,
      n(r.ratio, 2),
      '≥ 0.25',
      verdict(r.ratio, 0.25),
    ]);
  }
  const rebuild = readResult('rebuild');
  if (rebuild)
    rows.push([
      'rebuild',
      `${n(rebuild.oursEventsPerSec)} events/s (${n(rebuild.events)} events)`,
      `${n(rebuild.baselineEventsPerSec)} events/s`,
      n(rebuild.ratio, 2),
      '≥ 0.3',
      verdict(rebuild.ratio, 0.3),
    ]);
  const withdrawal = readResult('withdrawal');
  if (withdrawal) {
    const t = obj(withdrawal.timeToDenial);
    rows.push([
      'withdrawal',
      `${n(withdrawal.servedAfterAcknowledgement)} of ${n(withdrawal.readsAfterAcknowledgement)} reads served after the acknowledgement; denial p50 ${n(t.p50Ms, 1)} ms, p99 ${n(t.p99Ms, 1)} ms`,
      '–',
      '–',
      '0 served',
      withdrawal.servedAfterAcknowledgement === 0 ? 'met' : '**short**',
    ]);
  }
  const relay = readResult('relay');
  if (relay)
    rows.push([
      'relay',
      `${n(relay.oursEventsPerSec)} events/s (${n(relay.oursMessagesPerSec)} messages/s)`,
      `${n(relay.baselineEventsPerSec)} events/s (${n(relay.baselineMessagesPerSec)} messages/s)`,
      n(relay.ratio, 2),
      '≥ 0.7',
      verdict(relay.ratio, 0.7),
    ]);
  const scale = readResult('scale');
  if (scale) {
    const steps = (scale.steps as Json[] | undefined) ?? [];
    const first = obj(steps[0]);
    const last = obj(steps[steps.length - 1]);
    const growth = obj(scale.growth);
    rows.push([
      `scale (${n(first.events)} → ${n(last.events)} events)`,
      `p50 append ${n(obj(last.append).p50Ms, 3)} ms, stream read ${n(obj(last.readStream).p50Ms, 3)} ms, page ${n(obj(last.readAllPage).p50Ms, 3)} ms`,
      `at ${n(first.events)}: ${n(obj(first.append).p50Ms, 3)} / ${n(obj(first.readStream).p50Ms, 3)} / ${n(obj(first.readAllPage).p50Ms, 3)} ms`,
      `×${n(growth.append, 2)} / ×${n(growth.readStream, 2)} / ×${n(growth.readAllPage, 2)}`,
      '≤ 1.5×',
      verdict(scale.ratio, 1.5, false),
    ]);
  }
  const dates = ['append', 'command', 'query', 'rebuild', 'withdrawal', 'relay', 'scale']
    .map((name) => readResult(name))
    .filter((r): r is Json => r !== undefined);
  const env = dates[0];
  const header = ['benchmark', 'ours', 'baseline, same run', 'ratio', 'aim', ''];
  return [
    `Measured on ${text(env?.cores)} cores (${text(env?.cpu)}), Node ${text(env?.node)}; runs of ${dates
      .map((r) => String(r.date).slice(0, 10))
      .filter((d, i, all) => all.indexOf(d) === i)
      .join(', ')}.`,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export async function writeReport(file = join(process.cwd(), 'BENCHMARKS.md')): Promise<void> {
  await renderChart();
  const current = readFileSync(file, 'utf8');
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} lacks the ${START} … ${END} markers`);
  const updated = `${current.slice(0, start + START.length)}\n${resultTable()}\n${current.slice(end)}`;
  // Formatted as the repository's Prettier settings want, so that `npm run lint` stays green.
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(updated, { ...options, filepath: file }));
  console.log(`written ${file}`);
}

if (require.main === module) {
  writeReport().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
