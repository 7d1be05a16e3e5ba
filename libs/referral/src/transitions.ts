import type { ReferralEvent } from './events';
import type { ReferralState, ReferralStatus } from './state';

/**
 * The referral lifecycle, written once: for each event, the statuses it may follow and the status
 * it leads to (`undefined`: the status stays, as for an escalation). `decide` refuses a command
 * whose event the table does not allow after the referral's status (with its own codes and words:
 * `REFERRAL.ALREADY_MADE`, `REFERRAL.NOT_ACKNOWLEDGED`, `REFERRAL.WRONG_STATE`); `evolve` and the
 * case directory ignore such an event, and they and the integration contracts take the status
 * after it from here.
 */
export const REFERRAL_TRANSITIONS = {
  ReferralMade: { from: ['none'], to: 'made' },
  ReferralAcknowledged: { from: ['made'], to: 'acknowledged' },
  ReferralAccepted: { from: ['acknowledged'], to: 'accepted' },
  ReferralDeclined: { from: ['acknowledged'], to: 'declined' },
  HandoffCompleted: { from: ['accepted'], to: 'completed' },
  ReferralWithdrawn: { from: ['made', 'acknowledged', 'accepted'], to: 'withdrawn' },
  ReferralEscalated: {
    from: ['made', 'acknowledged', 'accepted', 'declined', 'completed', 'withdrawn'],
    to: undefined,
  },
} as const satisfies {
  readonly [Type in ReferralEvent['type']]: {
    readonly from: readonly ReferralStatus[];
    readonly to: Exclude<ReferralStatus, 'none'> | undefined;
  };
};

type EventType = ReferralEvent['type'];

/** The states an event of type `T` may follow, as the table says. */
export type StateBefore<T extends EventType> = Extract<
  ReferralState,
  { status: (typeof REFERRAL_TRANSITIONS)[T]['from'][number] }
>;

/** Whether an event of `type` may follow a referral in `status`. */
export const allowsTransition = (status: ReferralStatus, type: EventType): boolean =>
  (REFERRAL_TRANSITIONS[type].from as readonly ReferralStatus[]).includes(status);

/** Whether an event of `type` may follow `state`, narrowing `state` to the statuses it may follow. */
export const mayFollow = <T extends EventType>(state: ReferralState, type: T): state is StateBefore<T> =>
  allowsTransition(state.status, type);

/**
 * The status after an event of `type` on a referral in `status`: the same status for an
 * escalation, `undefined` when the table does not allow the event there.
 */
export function statusAfter(status: ReferralStatus, type: EventType): ReferralStatus | undefined {
  if (!allowsTransition(status, type)) return undefined;
  return REFERRAL_TRANSITIONS[type].to ?? status;
}
