import type { RecordedEvent } from '@nrm/event-store';
import { evolveReferralDoc, referralDocOf, type ReferralDoc } from '@nrm/projections';
import { REFERRAL_EVENT_TYPES, type ReferralEvent } from '@nrm/referral';
import { durations, type Durations } from './percentile';

/**
 * The handoff board: every referral as a handoff between two agencies (who, to
 * whom, how fast, stalled or not), never the case or the person behind it. A
 * row carries the referral's id but no case id and no subject id: the
 * coordinator audits handoffs, not cases.
 */

export const REFERRAL_STATUSES = [
  'made',
  'acknowledged',
  'accepted',
  'declined',
  'completed',
  'withdrawn',
] as const satisfies readonly ReferralDoc['status'][];
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];

export interface BoardRow {
  readonly referralId: string;
  readonly fromAgencyId: string;
  readonly toAgencyId: string;
  readonly toAgencyKind: string;
  readonly status: ReferralStatus;
  readonly urgency: string;
  readonly transnational: boolean;
  readonly madeAt: string;
  readonly respondBy: string;
  readonly acknowledgedAt: string | null;
  readonly acceptedAt: string | null;
  readonly declinedAt: string | null;
  readonly completedAt: string | null;
  readonly withdrawnAt: string | null;
  readonly escalated: boolean;
  readonly escalatedAt: string | null;
  /** From made to acknowledged; null until acknowledged. */
  readonly secondsToAcknowledge: number | null;
  /** From made to the person reaching the receiver (HandoffCompleted); null until then. */
  readonly secondsToHandoff: number | null;
  /** Still awaiting an answer (made or acknowledged) after its respond-by time. */
  readonly overdue: boolean;
}

/** Which referrals: `from`/`to` bound `madeAt` as [from, to), in canonical UTC form (`toISOString`). */
export interface BoardFilter {
  readonly from?: string;
  readonly to?: string;
  readonly status?: ReferralStatus;
  readonly fromAgencyId?: string;
  readonly toAgencyId?: string;
}

/** Where a page starts: right after this row in board order (newest first, then by referral id). */
export interface BoardCursor {
  readonly madeAt: string;
  readonly referralId: string;
}

export interface BoardSummary {
  /** Referrals matching the filter (all pages). */
  readonly referrals: number;
  readonly byStatus: Record<ReferralStatus, number>;
  readonly byPair: ReadonlyArray<{ fromAgencyId: string; toAgencyId: string; referrals: number }>;
  readonly secondsToAcknowledge: Durations;
  readonly secondsToHandoff: Durations;
  readonly overdue: number;
  readonly escalated: number;
}

export interface HandoffBoard {
  /** The instant `overdue` is judged at: now, or the `asOf` of a past board. */
  readonly at: string;
  readonly referrals: readonly BoardRow[];
  readonly next?: { readonly cursor: string };
  readonly summary: BoardSummary;
}

function secondsBetween(from: string, to: string | undefined): number | null {
  if (to === undefined) return null;
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

export function isOverdue(doc: ReferralDoc, at: string): boolean {
  return (
    (doc.status === 'made' || doc.status === 'acknowledged') && Date.parse(at) > Date.parse(doc.respondBy)
  );
}

/** One referral as the board shows it: its handoff, without case or subject. */
export function boardRow(doc: ReferralDoc, at: string): BoardRow {
  return {
    referralId: doc.referralId,
    fromAgencyId: doc.fromAgencyId,
    toAgencyId: doc.toAgencyId,
    toAgencyKind: doc.toAgencyKind,
    status: doc.status,
    urgency: doc.urgency,
    transnational: doc.transnational,
    madeAt: doc.madeAt,
    respondBy: doc.respondBy,
    acknowledgedAt: doc.acknowledgedAt ?? null,
    acceptedAt: doc.acceptedAt ?? null,
    declinedAt: doc.declinedAt ?? null,
    completedAt: doc.completedAt ?? null,
    withdrawnAt: doc.withdrawnAt ?? null,
    escalated: doc.escalated,
    escalatedAt: doc.escalatedAt ?? null,
    secondsToAcknowledge: secondsBetween(doc.madeAt, doc.acknowledgedAt),
    secondsToHandoff: secondsBetween(doc.madeAt, doc.completedAt),
    overdue: isOverdue(doc, at),
  };
}

export function matchesFilter(doc: ReferralDoc, filter: BoardFilter): boolean {
  const made = Date.parse(doc.madeAt);
  return (
    (filter.from === undefined || made >= Date.parse(filter.from)) &&
    (filter.to === undefined || made < Date.parse(filter.to)) &&
    (filter.status === undefined || doc.status === filter.status) &&
    (filter.fromAgencyId === undefined || doc.fromAgencyId === filter.fromAgencyId) &&
    (filter.toAgencyId === undefined || doc.toAgencyId === filter.toAgencyId)
  );
}

/** Newest first; referrals made at the same instant by id. */
function boardOrder(a: BoardCursor, b: BoardCursor): number {
  if (a.madeAt !== b.madeAt)
    return Date.parse(b.madeAt) - Date.parse(a.madeAt) || (a.madeAt < b.madeAt ? 1 : -1);
  return a.referralId < b.referralId ? -1 : a.referralId > b.referralId ? 1 : 0;
}

export function summarise(rows: readonly BoardRow[]): BoardSummary {
  const byStatus = Object.fromEntries(REFERRAL_STATUSES.map((s) => [s, 0])) as Record<ReferralStatus, number>;
  const pairs = new Map<string, { fromAgencyId: string; toAgencyId: string; referrals: number }>();
  const toAcknowledge: number[] = [];
  const toHandoff: number[] = [];
  let overdue = 0;
  let escalated = 0;
  for (const row of rows) {
    byStatus[row.status] += 1;
    const key = JSON.stringify([row.fromAgencyId, row.toAgencyId]);
    const pair = pairs.get(key) ?? {
      fromAgencyId: row.fromAgencyId,
      toAgencyId: row.toAgencyId,
      referrals: 0,
    };
    pair.referrals += 1;
    pairs.set(key, pair);
    if (row.secondsToAcknowledge !== null) toAcknowledge.push(row.secondsToAcknowledge);
    if (row.secondsToHandoff !== null) toHandoff.push(row.secondsToHandoff);
    if (row.overdue) overdue += 1;
    if (row.escalated) escalated += 1;
  }
  const byPair = [...pairs.values()].sort(
    (a, b) =>
      b.referrals - a.referrals ||
      (a.fromAgencyId < b.fromAgencyId ? -1 : a.fromAgencyId > b.fromAgencyId ? 1 : 0) ||
      (a.toAgencyId < b.toAgencyId ? -1 : a.toAgencyId > b.toAgencyId ? 1 : 0),
  );
  return {
    referrals: rows.length,
    byStatus,
    byPair,
    secondsToAcknowledge: durations(toAcknowledge),
    secondsToHandoff: durations(toHandoff),
    overdue,
    escalated,
  };
}

/**
 * The board over `docs`: the referrals matching `filter`, one page of them, and
 * a summary of all of them (not just the page), with `overdue` judged at `at`.
 */
export function handoffBoard(
  docs: Iterable<ReferralDoc>,
  filter: BoardFilter,
  page: { readonly limit: number; readonly after?: BoardCursor },
  at: string,
): HandoffBoard {
  const rows: BoardRow[] = [];
  for (const doc of docs) if (matchesFilter(doc, filter)) rows.push(boardRow(doc, at));
  rows.sort(boardOrder);
  const after = page.after;
  const start = after === undefined ? 0 : rows.findIndex((row) => boardOrder(row, after) > 0);
  const referrals = start < 0 ? [] : rows.slice(start, start + page.limit);
  const last = referrals[referrals.length - 1];
  const more = start >= 0 && start + page.limit < rows.length;
  return {
    at,
    referrals,
    ...(more && last ? { next: { cursor: encodeCursor(last) } } : {}),
    summary: summarise(rows),
  };
}

export function encodeCursor(row: BoardCursor): string {
  return Buffer.from(JSON.stringify([row.madeAt, row.referralId]), 'utf8').toString('base64url');
}

/** `undefined` for anything that is not a cursor this board handed out. */
export function decodeCursor(cursor: string): BoardCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
  const [madeAt, referralId] = parsed as unknown[];
  if (typeof madeAt !== 'string' || typeof referralId !== 'string') return undefined;
  if (Number.isNaN(Date.parse(madeAt)) || referralId.length === 0) return undefined;
  return { madeAt, referralId };
}

/**
 * Folds referral events into the documents the case directory keeps, the same
 * way it does, for a board as it stood at a past instant. Only the events whose
 * `occurredAt` is at or before `asOf` count.
 */
export class ReferralFold {
  private readonly docs = new Map<string, ReferralDoc>();

  constructor(private readonly asOf: string) {}

  apply(recorded: Pick<RecordedEvent, 'type' | 'data' | 'metadata'>): void {
    if (!(REFERRAL_EVENT_TYPES as readonly string[]).includes(recorded.type)) return;
    if (!(Date.parse(recorded.metadata.occurredAt) <= Date.parse(this.asOf))) return;
    const event = { type: recorded.type, data: recorded.data } as unknown as ReferralEvent;
    if (event.type === 'ReferralMade') {
      this.docs.set(event.data.referralId, referralDocOf(event));
      return;
    }
    const doc = this.docs.get(event.data.referralId);
    if (doc) evolveReferralDoc(doc, event);
  }

  referrals(): Iterable<ReferralDoc> {
    return this.docs.values();
  }
}
