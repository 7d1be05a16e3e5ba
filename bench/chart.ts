/**
 * `npm run bench:chart`: draws bench/results/benchmarks.png from the JSON
 * results: the ratio of each benchmark to its baseline beside its aim, and the
 * scale benchmark's p50 latencies against stored history. Vega-Lite compiles
 * the charts, Vega renders SVG without a browser, resvg turns it into PNG.
 */
import { Resvg } from '@resvg/resvg-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { readResult, type ResultJson } from './lib';

const RESULTS = join(process.cwd(), 'bench', 'results');

interface RatioRow {
  readonly benchmark: string;
  readonly ratio: number;
  readonly aim: number;
  readonly met: string;
}

type Json = ResultJson;

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Every ratio the results hold, with the aim QUALITY.md sets for it (higher is better). */
export function ratioRows(): RatioRow[] {
  const rows: Array<Omit<RatioRow, 'met'>> = [];
  const add = (benchmark: string, ratio: number | undefined, aim: number) => {
    if (ratio !== undefined) rows.push({ benchmark, ratio, aim });
  };
  const append = readResult('append');
  if (append) {
    for (const r of (append.results as Json[] | undefined) ?? []) {
      const label = r.shape === 'batch100' ? `append-batch ${String(r.mode)}` : `append ${String(r.mode)}`;
      add(label, num(r.ratio), 0.8);
    }
    const durable = append.durable as Json | undefined;
    add('durable, one writer', num(durable?.ratio), 0.5);
    add('durable, 16 writers', num((durable?.concurrent as Json | undefined)?.ratio), 0.5);
  }
  for (const [name, aim] of [
    ['command', 0.25],
    ['query', 0.25],
    ['rebuild', 0.3],
    ['relay', 0.7],
  ] as const)
    add(name, num(readResult(name)?.ratio), aim);
  return rows.map((r) => ({ ...r, met: r.ratio >= r.aim ? 'aim met' : 'below aim' }));
}

interface ScalePoint {
  readonly events: number;
  readonly operation: string;
  readonly p50Ms: number;
}

export function scalePoints(): ScalePoint[] {
  const scale = readResult('scale');
  const points: ScalePoint[] = [];
  for (const step of (scale?.steps as Json[] | undefined) ?? []) {
    const events = num(step.events);
    if (events === undefined) continue;
    for (const [key, operation] of [
      ['append', 'one-event append'],
      ['readStream', '100-event stream read'],
      ['readAllPage', '100-event page of the log'],
    ] as const) {
      const p50 = num((step[key] as Json | undefined)?.p50Ms);
      if (p50 !== undefined) points.push({ events, operation, p50Ms: p50 });
    }
  }
  return points;
}

export async function renderChart(file = join(RESULTS, 'benchmarks.png')): Promise<string> {
  const ratios = ratioRows();
  const scale = scalePoints();
  const ratioPanel = {
    title: 'Ratio to the baseline measured in the same run (bar), and the aim (tick)',
    width: 640,
    height: 22 * Math.max(1, ratios.length),
    data: { values: ratios },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'benchmark', type: 'nominal', sort: null, title: null },
          x: { field: 'ratio', type: 'quantitative', title: 'ours ÷ baseline' },
          color: {
            field: 'met',
            type: 'nominal',
            scale: { domain: ['aim met', 'below aim'], range: ['#2e7d32', '#c62828'] },
            title: null,
          },
        },
      },
      {
        mark: { type: 'tick', color: 'black', thickness: 2, size: 18 },
        encoding: {
          y: { field: 'benchmark', type: 'nominal', sort: null },
          x: { field: 'aim', type: 'quantitative' },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4 },
        encoding: {
          y: { field: 'benchmark', type: 'nominal', sort: null },
          x: { field: 'ratio', type: 'quantitative' },
          text: { field: 'ratio', type: 'quantitative', format: '.2f' },
        },
      },
    ],
  };
  const scalePanel = {
    title: 'scale: p50 latency against stored events (flat = cost does not grow with history)',
    width: 640,
    height: 220,
    data: { values: scale },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'events', type: 'quantitative', scale: { type: 'log' }, title: 'events stored' },
      y: { field: 'p50Ms', type: 'quantitative', title: 'p50 (ms)' },
      color: { field: 'operation', type: 'nominal', title: null, legend: { labelLimit: 320 } },
    },
  };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    background: 'white',
    padding: 16,
    config: { font: 'DejaVu Sans' },
    vconcat: [ratioPanel, ...(scale.length > 0 ? [scalePanel] : [])],
    // Each panel its own colours: pass/fail bars above, one line per operation below.
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  } as unknown as vl.TopLevelSpec;
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  writeFileSync(file, png);
  return file;
}

if (require.main === module) {
  renderChart()
    .then((file) => console.log(`written ${file}`))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
