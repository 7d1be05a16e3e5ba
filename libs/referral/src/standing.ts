import type { ReferralStatus } from './state';

/**
 * What a referral gives the agency it is addressed to, by where it stands (one rule for the case
 * directory's party rows, the seized check of grounds decisions, and the receiver's referral list):
 *
 * - `seized`: the referral is open or was carried out (made, acknowledged, accepted, completed). The
 *   receiver is party to the case and, if competent, seized of it (it may decide grounds).
 * - `holds`: accepted, then withdrawn. The receiver keeps its standing as a party for what it
 *   already holds (it reads what consent or a lawful basis covers for it, as before), but it is no
 *   longer seized: it decides nothing on the case by this referral.
 * - `none`: declined, or withdrawn before it was accepted (a referral sent in error among them).
 *   The referral gives its receiver no standing at all: unless the agency is party to the case by
 *   another route, the case answers it exactly like a case that does not exist.
 */
export type ReceiverStanding = 'seized' | 'holds' | 'none';

export function receiverStanding(referral: {
  readonly status: ReferralStatus;
  readonly acceptedAt?: string;
}): ReceiverStanding {
  switch (referral.status) {
    case 'made':
    case 'acknowledged':
    case 'accepted':
    case 'completed':
      return 'seized';
    case 'withdrawn':
      return referral.acceptedAt !== undefined ? 'holds' : 'none';
    default:
      return 'none';
  }
}
