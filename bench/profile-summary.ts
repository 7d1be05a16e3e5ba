/**
 * Where a profiled ledger's CPU went: reads the V8 CPU profiles that `BENCH_CPU_PROF=<dir>` made
 * (see bench/http.ts) and prints self time by area (our libs and apps, each package, Node's own
 * code, garbage collection) and the hottest functions, as shares of the busy (non-idle) time.
 *
 *   mkdir -p /tmp/prof && BENCH_CPU_PROF=/tmp/prof npm run bench:query && npm run -s bench:profile -- /tmp/prof
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** The area a frame's code belongs to. */
export function areaOf(url: string, name: string): string {
  if (name === '(idle)') return '(idle)';
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(program)') return 'V8 / native (program)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  // The last libs/ or apps/ in the path: a built file sits in dist/apps/<app>/libs/<lib>/...
  const parts = url.split('/');
  const at = Math.max(parts.lastIndexOf('libs'), parts.lastIndexOf('apps'));
  if (at >= 0 && at + 2 < parts.length) return `${parts[at]}/${parts[at + 1]}`;
  if (url.startsWith('node:') || url === '') return 'node (core, native)';
  return url;
}

function profilesIn(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f));
}

function main(): void {
  const target = process.argv[2];
  if (!target) throw new Error('usage: profile-summary <profile or directory of .cpuprofile files>');
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const file of profilesIn(target)) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
    /** A native frame (no script) counts for the nearest caller with a script: SQLite's `all` called by a query. */
    const caller = (id: number): ProfileNode | undefined => {
      for (let p = parents.get(id); p !== undefined; p = parents.get(p)) {
        const n = nodes.get(p)!;
        if (n.callFrame.url !== '') return n;
      }
      return undefined;
    };
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id)!;
      const micros = profile.timeDeltas[i] ?? 0;
      let area = areaOf(node.callFrame.url, node.callFrame.functionName);
      if (area === 'node (core, native)' && node.callFrame.url === '') {
        const from = caller(id);
        if (from) area = `native, called from ${areaOf(from.callFrame.url, from.callFrame.functionName)}`;
      }
      if (area === '(idle)') return;
      busy += micros;
      byArea.set(area, (byArea.get(area) ?? 0) + micros);
      const where = node.callFrame.url
        .replace(/^.*\/(node_modules|libs|apps)\//, '$1/')
        .replace(/^file:\/\//, '');
      const key = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    });
  }
  const share = (m: number) => `${((100 * m) / busy).toFixed(1).padStart(5)}%`;
  console.log(`busy CPU: ${(busy / 1e6).toFixed(2)} s\n\nself time by area:`);
  for (const [area, m] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${share(m)}  ${area}`);
  console.log('\nhottest functions (self time):');
  for (const [fn, m] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${share(m)}  ${fn}`);
}

if (require.main === module) main();
