/**
 * The invented rows both console benches load (bench:console in jsdom, bench:console-browser in
 * Chromium): referrals for the handoff board and entries for the access log, row `i` the same in
 * both, one minute apart from 2026-01-01.
 */

export const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();

/** `n` referrals of the handoff board, statuses and figures varying by row. */
export const referralsOf = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    referralId: `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    fromAgencyId: `agency-${i % 40}`,
    toAgencyId: `agency-${(i + 7) % 40}`,
    status: ['made', 'acknowledged', 'accepted', 'completed'][i % 4],
    urgency: 'urgent',
    transnational: i % 10 === 0,
    madeAt: at(i),
    secondsToAcknowledge: i % 4 === 0 ? null : (i * 37) % 86_400,
    secondsToHandoff: i % 4 === 3 ? (i * 53) % 172_800 : null,
    overdue: i % 13 === 0,
    escalated: i % 29 === 0,
  }));

/** `n` entries of the access log, one in nine refused. */
export const entriesOf = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    eventId: `${i.toString(16).padStart(8, '0')}-1111-4000-8000-000000000000`,
    at: at(i),
    agencyId: `agency-${i % 40}`,
    caseId: `${(i % 500).toString(16).padStart(8, '0')}-2222-4000-8000-000000000000`,
    view: 'case',
    purpose: 'assistance',
    outcome: i % 9 === 0 ? 'refused' : 'granted',
  }));
