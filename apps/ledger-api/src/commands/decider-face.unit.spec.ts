import { consentDecider } from '@nrm/consent';
import { identificationDecider } from '@nrm/identification';
import { referralDecider } from '@nrm/referral';
import { supportDecider } from '@nrm/support';

/**
 * The command executor runs every context the same way: fold the stream with `evolve` from
 * `initialState`, then `decide`. Each of the four deciders shows that same face, and nothing more
 * that a caller could come to depend on (issue #13, item 7).
 */
const DECIDERS: Record<string, object> = {
  identification: identificationDecider(),
  consent: consentDecider,
  referral: referralDecider,
  support: supportDecider,
};

describe('the four deciders', () => {
  it.each(Object.entries(DECIDERS))(
    '%s exposes exactly decide, evolve and initialState',
    (_name, decider) => {
      expect(Object.keys(decider).sort()).toEqual(['decide', 'evolve', 'initialState']);
      const face = decider as Record<string, unknown>;
      expect([typeof face.decide, typeof face.evolve, typeof face.initialState]).toEqual([
        'function',
        'function',
        'function',
      ]);
      // decide(command, state), evolve(state, event), initialState(): the arity is the face too.
      expect([(face.decide as () => void).length, (face.evolve as () => void).length]).toEqual([2, 2]);
      expect((face.initialState as () => unknown)()).toEqual(expect.any(Object));
    },
  );
});
