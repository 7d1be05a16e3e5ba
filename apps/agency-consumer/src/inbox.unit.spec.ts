import { AgencyInbox } from './inbox';

const CASE = 'case-9d2';

function delivery(eventId: string, contract: string, categories: string[], payload: object, caseId = CASE) {
  return {
    headers: { 'event-id': eventId, type: contract },
    value: JSON.stringify({ contract, schemaVersion: 1, eventId, caseId, categories, payload }),
  };
}

describe('the reference agency inbox', () => {
  let inbox: AgencyInbox;
  beforeEach(() => (inbox = new AgencyInbox(':memory:')));
  afterEach(() => inbox.close());

  it('stores an event once, however often it is delivered', () => {
    const d = delivery('e-1', 'nrm.support.updated.v1', ['case-status'], { change: 'support-plan-agreed' });
    expect(inbox.receive(d)).toEqual({
      kind: 'stored',
      eventId: 'e-1',
      contract: 'nrm.support.updated.v1',
      purged: 0,
    });
    expect(inbox.receive(d)).toEqual({ kind: 'duplicate', eventId: 'e-1' });
    expect(inbox.receive(d)).toEqual({ kind: 'duplicate', eventId: 'e-1' });
    expect(inbox.count()).toBe(1);
  });

  it('deletes what it holds of the case in categories a withdrawal no longer covers', () => {
    inbox.receive(
      delivery('e-1', 'nrm.referral.received.v1', ['support-needs', 'case-status'], { urgency: 'urgent' }),
    );
    inbox.receive(delivery('e-2', 'nrm.referral.status-changed.v1', ['case-status'], { status: 'accepted' }));
    inbox.receive(delivery('e-3', 'nrm.support.updated.v1', ['case-status'], { change: 'x' }, 'case-other'));
    const notice = delivery('e-4', 'nrm.consent.withdrawn.v1', [], {
      consentId: 'c-1',
      whole: false,
      stillEntitledCategories: ['case-status'],
    });
    expect(inbox.receive(notice)).toEqual({
      kind: 'stored',
      eventId: 'e-4',
      contract: 'nrm.consent.withdrawn.v1',
      purged: 1,
    });
    // e-2 (case-status only), e-3 (another case) and the notice itself remain.
    expect(inbox.count()).toBe(3);
  });

  it('rejects a message without an event id or that is no integration event', () => {
    expect(inbox.receive({ headers: {}, value: '{}' })).toEqual({
      kind: 'rejected',
      reason: 'no event-id header',
    });
    expect(inbox.receive({ headers: { 'event-id': 'e-9' }, value: 'not json' })).toEqual({
      kind: 'rejected',
      reason: 'not an integration event',
    });
    expect(inbox.count()).toBe(0);
  });
});
