import type { EventStore } from '@nrm/event-store';
import { caseFactsOfMonths, referralsMatching, type ReferralDoc } from '@nrm/projections';
import { REFERRAL_EVENT_TYPES } from '@nrm/referral';
import { AuditTrail, type ReadRequest } from '../access/audit-trail';
import { awaitReadModel, type ReadModel } from '@nrm/runtime';
import { ProblemException } from '../http/problem';
import {
  caseStatistics,
  monthsBetween,
  type CaseFacts,
  type MonthStatistics,
  type StatisticsColumns,
} from './case-statistics';
import {
  decodeCursor,
  handoffBoard,
  ReferralFold,
  type BoardFilter,
  type HandoffBoard,
  type ReferralStatus,
} from './handoff-board';

/** A period as asked: `from` and `to` as sent (validated instants), either may be absent. */
export interface PeriodQuery {
  readonly from?: string;
  readonly to?: string;
}

export interface BoardQuery extends PeriodQuery {
  readonly status?: ReferralStatus;
  readonly fromAgencyId?: string;
  readonly toAgencyId?: string;
  readonly limit: number;
  readonly cursor?: string;
  readonly asOf?: string;
}

export interface Period {
  readonly from: string | null;
  readonly to: string | null;
}

/**
 * The national coordinator's views: where handoffs stall, and how many cases of
 * which kind are reported. Neither answer carries a case id, a subject id or
 * any identity data, so each read is audited with no data categories. Who may
 * ask is decided before these run (`CoordinatorOnly`).
 */
export class CoordinatorViews {
  private readonly audit: AuditTrail;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: ReadModel,
  ) {
    this.audit = new AuditTrail(store);
  }

  async handoffBoard(
    request: ReadRequest,
    query: BoardQuery,
  ): Promise<HandoffBoard & { period: Period; asOf?: string }> {
    const period = periodOf(query);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && after === undefined)
      throw invalid('cursor', 'cursor must be the next.cursor of a previous page of this board.');
    const filter: BoardFilter = {
      ...(period.from !== null ? { from: period.from } : {}),
      ...(period.to !== null ? { to: period.to } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.fromAgencyId ? { fromAgencyId: query.fromAgencyId } : {}),
      ...(query.toAgencyId ? { toAgencyId: query.toAgencyId } : {}),
    };
    const page = { limit: query.limit, ...(after ? { after } : {}) };

    let board: HandoffBoard;
    let asOf: string | undefined;
    if (query.asOf !== undefined) {
      asOf = canonical(query.asOf);
      if (Date.parse(asOf) > Date.parse(request.now))
        throw invalid('asOf', 'asOf must be a past instant: the board cannot be shown as it will be.');
      board = handoffBoard(await this.referralsAsOf(asOf), filter, page, asOf);
    } else {
      await awaitReadModel(this.store, this.readModel);
      board = handoffBoard(await this.referrals(filter), filter, page, request.now);
    }
    await this.audit.accessed(request, { view: 'handoff-board', categories: [] });
    return { period, ...(asOf !== undefined ? { asOf } : {}), ...board };
  }

  /**
   * Rows of the statistics grid, one per completed calendar month of the period:
   * each row is the same whatever period it is asked in, and nothing is summed
   * across months, so no two answers can be subtracted. The month under way is
   * never published: its figures would change from one request to the next, and
   * that difference would count the cases reported in between.
   */
  async statistics(
    request: ReadRequest,
    query: PeriodQuery,
    columns: StatisticsColumns,
    k: number,
  ): Promise<{ k: number; period: { from: string; to: string }; months: MonthStatistics[] }> {
    const { from, to } = statisticsPeriod(query, request.now);
    const months = monthsBetween(from, to);
    await awaitReadModel(this.store, this.readModel);
    const facts = await this.caseFacts(months[0]!, months.at(-1)!);
    const rows = caseStatistics(facts, months, columns, k);
    await this.audit.accessed(request, { view: 'statistics', categories: [] });
    return { k, period: { from, to }, months: rows };
  }

  /** The live board's referrals: the case directory's documents, narrowed in SQL by what its columns hold. */
  private referrals(filter: BoardFilter): Promise<ReferralDoc[]> {
    return referralsMatching(this.readModel.store, filter);
  }

  /** The referrals as they stood at `asOf`, folded from the store's referral events up to its current head. */
  private async referralsAsOf(asOf: string): Promise<Iterable<ReferralDoc>> {
    const head = await this.store.headPosition();
    const fold = new ReferralFold(asOf);
    for await (const event of this.store.readAll({ filter: { eventTypes: REFERRAL_EVENT_TYPES } })) {
      if (event.position > head) break;
      fold.apply(event);
    }
    return fold.referrals();
  }

  /** The facts of the cases reported from month `first` to `last` (YYYY-MM), as reported: no case or subject id. */
  private caseFacts(first: string, last: string): Promise<CaseFacts[]> {
    return caseFactsOfMonths(this.readModel.store, first, last);
  }
}

/** The same instant in the form the read models store, so that text order is time order. */
function canonical(instant: string): string {
  return new Date(instant).toISOString();
}

function periodOf(query: PeriodQuery): Period {
  const from = query.from === undefined ? null : canonical(query.from);
  const to = query.to === undefined ? null : canonical(query.to);
  if (from !== null && to !== null && !(Date.parse(from) < Date.parse(to)))
    throw invalid('to', 'to must be later than from: the period is [from, to).');
  return { from, to };
}

/** The longest period one answer covers, in months. */
const MAX_STATISTICS_MONTHS = 120;

/**
 * The statistics period: whole months (the DTO checks that `from` and `to` start one),
 * ending no later than the start of the month under way, by default the twelve
 * completed months before it.
 */
function statisticsPeriod(query: PeriodQuery, now: string): { from: string; to: string } {
  const current = new Date(`${now.slice(0, 7)}-01T00:00:00.000Z`);
  const to = query.to === undefined ? current.toISOString() : canonical(query.to);
  if (Date.parse(to) > current.getTime())
    throw invalid(
      'to',
      `to must be no later than ${current.toISOString()}: only completed months are published, because the figures of a month under way change with every report.`,
    );
  const start = new Date(to);
  start.setUTCMonth(start.getUTCMonth() - 12);
  const from = query.from === undefined ? start.toISOString() : canonical(query.from);
  if (!(Date.parse(from) < Date.parse(to)))
    throw invalid(
      query.to === undefined ? 'from' : 'to',
      query.to === undefined
        ? `from must be earlier than ${to}: only completed months are published.`
        : 'to must be later than from: the period is [from, to).',
    );
  const monthIndex = (instant: string) => {
    const at = new Date(instant);
    return at.getUTCFullYear() * 12 + at.getUTCMonth();
  };
  if (monthIndex(to) - monthIndex(from) > MAX_STATISTICS_MONTHS)
    throw invalid('from', `the period may span at most ${MAX_STATISTICS_MONTHS} months.`);
  return { from, to };
}

function invalid(field: string, detail: string): ProblemException {
  return new ProblemException({
    status: 400,
    title: 'Invalid request',
    code: 'REQUEST.INVALID',
    field,
    detail,
    errors: [{ field, message: detail }],
  });
}
