import { allowsTransition, REFERRAL_TRANSITIONS, statusAfter } from './transitions';
import type { ReferralStatus } from './state';

const STATUSES: readonly ReferralStatus[] = [
  'none',
  'made',
  'acknowledged',
  'accepted',
  'declined',
  'completed',
  'withdrawn',
];

describe('the referral lifecycle table', () => {
  it('leads through made, acknowledged, accepted or declined, completed; withdrawn while open', () => {
    expect(statusAfter('none', 'ReferralMade')).toBe('made');
    expect(statusAfter('made', 'ReferralAcknowledged')).toBe('acknowledged');
    expect(statusAfter('acknowledged', 'ReferralAccepted')).toBe('accepted');
    expect(statusAfter('acknowledged', 'ReferralDeclined')).toBe('declined');
    expect(statusAfter('accepted', 'HandoffCompleted')).toBe('completed');
    for (const open of ['made', 'acknowledged', 'accepted'] as const)
      expect(statusAfter(open, 'ReferralWithdrawn')).toBe('withdrawn');
  });

  it('refuses steps out of order and keeps the status on an escalation (attack)', () => {
    let refused = 0;
    let allowed = 0;
    for (const status of STATUSES)
      for (const type of Object.keys(REFERRAL_TRANSITIONS) as Array<keyof typeof REFERRAL_TRANSITIONS>) {
        if (allowsTransition(status, type)) allowed++;
        else {
          refused++;
          expect(statusAfter(status, type)).toBeUndefined();
        }
      }
    expect(statusAfter('made', 'ReferralAccepted')).toBeUndefined();
    expect(statusAfter('completed', 'ReferralWithdrawn')).toBeUndefined();
    expect(statusAfter('declined', 'ReferralEscalated')).toBe('declined');
    expect(statusAfter('none', 'ReferralEscalated')).toBeUndefined();
    console.log(`referral lifecycle: ${allowed} (status, event) steps allowed, ${refused} refused`);
    expect(allowed).toBe(14);
  });
});
