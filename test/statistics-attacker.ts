import highsLoader from 'highs';
import type { MonthStatistics } from '../apps/ledger-api/src/coordinator/case-statistics';
import type { StatisticCell } from '../apps/ledger-api/src/coordinator/cell-suppression';

/**
 * Someone who collects every figure the statistics publish and tries to recover
 * the suppressed ones: the unknowns are how many cases there are of each kind
 * ("atom": month × region × agency kind × set of exploitation forms), whole
 * numbers from 0 up; every published figure is a linear equation over them; for
 * each suppressed figure the smallest and largest value any solution gives are
 * found by integer linear programming (HiGHS). A figure is determined when the
 * two are equal.
 *
 * The atoms' form sets are no form, each single form, and the form sets the
 * caller says occur: fewer unknowns than every subset of forms, so the attacker
 * is stronger than one who does not know which form sets occur.
 */
let loaded: ReturnType<typeof highsLoader> | undefined;

export interface Atom {
  readonly month: string;
  readonly region: string;
  readonly kind: string;
  readonly forms: readonly string[];
}

type Dimension = 'cases' | 'byRegion' | 'byReportingAgencyKind' | 'byExploitationForm';

/** One figure of the grid: its label (month, dimension, column) and which atoms it counts. */
interface Figure {
  readonly label: string;
  readonly counts: (atom: Atom) => boolean;
}

function figure(month: string, dimension: Dimension, column?: string): Figure {
  const label = column === undefined ? `${month} ${dimension}` : `${month} ${dimension} ${column}`;
  const inMonth = (a: Atom) => a.month === month;
  switch (dimension) {
    case 'cases':
      return { label, counts: inMonth };
    case 'byRegion':
      return { label, counts: (a) => inMonth(a) && a.region === column };
    case 'byReportingAgencyKind':
      return { label, counts: (a) => inMonth(a) && a.kind === column };
    case 'byExploitationForm':
      return {
        label,
        counts: (a) =>
          inMonth(a) && (column === 'unknown' ? a.forms.length === 0 : a.forms.includes(column!)),
      };
  }
}

export interface Bounds {
  readonly label: string;
  readonly min: number;
  readonly max: number;
}

export interface Attack {
  /** Published figures seen (the same figure seen in several answers counts once). */
  readonly published: number;
  /** Suppressed figures, with the bounds the attacker could prove. */
  readonly suppressed: Bounds[];
  /** Suppressed figures whose min equals their max. */
  readonly determined: Bounds[];
}

/** Collects the figures of many answers, each a list of month rows. */
export class StatisticsAttacker {
  private readonly values = new Map<string, Set<number>>();
  private readonly hidden = new Map<string, Figure>();
  private readonly figures = new Map<string, Figure>();
  private readonly months = new Set<string>();
  private readonly columns: Record<Exclude<Dimension, 'cases'>, Set<string>> = {
    byRegion: new Set(),
    byReportingAgencyKind: new Set(),
    byExploitationForm: new Set(),
  };
  answers = 0;

  observe(rows: readonly MonthStatistics[]): void {
    this.answers += 1;
    for (const row of rows) {
      this.months.add(row.month);
      this.see(figure(row.month, 'cases'), row.cases);
      for (const dimension of ['byRegion', 'byReportingAgencyKind', 'byExploitationForm'] as const)
        for (const [column, cell] of Object.entries(row[dimension])) {
          this.columns[dimension].add(column);
          this.see(figure(row.month, dimension, column), cell);
        }
    }
  }

  /** A figure known from elsewhere (e.g. a month's number of cases published by another body). */
  know(month: string, value: number): void {
    this.months.add(month);
    this.see(figure(month, 'cases'), { count: value });
  }

  private see(f: Figure, cell: StatisticCell): void {
    this.figures.set(f.label, f);
    if ('count' in cell) {
      const seen = this.values.get(f.label) ?? new Set<number>();
      seen.add(cell.count);
      this.values.set(f.label, seen);
    } else this.hidden.set(f.label, f);
  }

  /** The atoms: every month and column seen, every agency kind, and the form sets no form, one form, or `formSets`. */
  atoms(formSets: ReadonlyArray<readonly string[]> = []): Atom[] {
    const forms = [...this.columns.byExploitationForm].filter((f) => f !== 'unknown');
    const sets = new Map<string, readonly string[]>([['', []]]);
    for (const f of forms) sets.set(f, [f]);
    for (const s of formSets) sets.set([...s].sort().join('+'), [...s].sort());
    const out: Atom[] = [];
    for (const month of this.months)
      for (const region of this.columns.byRegion)
        for (const kind of this.columns.byReportingAgencyKind)
          for (const set of sets.values()) out.push({ month, region, kind, forms: set });
    return out;
  }

  async attack(formSets: ReadonlyArray<readonly string[]> = []): Promise<Attack> {
    const highs = await (loaded ??= highsLoader());
    const atoms = this.atoms(formSets);
    const members = (f: Figure) => atoms.flatMap((a, i) => (f.counts(a) ? [i] : []));
    const equations: Array<{ atoms: number[]; value: number }> = [];
    for (const [label, seen] of this.values) {
      const of = members(this.figures.get(label)!);
      for (const value of seen) equations.push({ atoms: of, value }); // two values for one figure: nothing fits
    }
    // Atoms linked by an equation, transitively: a figure's bounds depend only on the equations of its blocks.
    const parent = atoms.map((_, i) => i);
    const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i]!)));
    for (const { atoms: of } of equations) for (const i of of.slice(1)) parent[root(i)] = root(of[0]!);
    const sum = (of: number[]) => of.map((i) => `x${i}`).join(' + ');
    const solve = (sense: 'Minimize' | 'Maximize', of: number[], within: typeof equations): number => {
      const used = new Set([...of, ...within.flatMap((e) => e.atoms)]);
      const model = [
        sense,
        ` obj: ${sum(of)}`,
        'Subject To',
        ...within.map((e, n) => ` c${n}: ${sum(e.atoms)} = ${e.value}`),
        'General',
        ` ${[...used].map((i) => `x${i}`).join(' ')}`,
        'End',
      ].join('\n');
      const solution = highs.solve(model, { output_flag: false });
      if (solution.Status === 'Optimal') return Math.round(solution.ObjectiveValue);
      if (sense === 'Maximize' && /Unbounded|infeasible or unbounded/.test(solution.Status)) return Infinity;
      throw new Error(`the attacker's model is ${solution.Status}: the answers contradict each other`);
    };
    const suppressed: Bounds[] = [];
    for (const [label, f] of this.hidden) {
      const of = members(f);
      const blocks = new Set(of.map(root));
      const within = equations.filter((e) => blocks.has(root(e.atoms[0]!)));
      if (within.length === 0) {
        suppressed.push({ label, min: 0, max: Infinity }); // nothing published touches it
        continue;
      }
      suppressed.push({ label, min: solve('Minimize', of, within), max: solve('Maximize', of, within) });
    }
    return {
      published: this.values.size,
      suppressed,
      determined: suppressed.filter((b) => b.min === b.max),
    };
  }
}
