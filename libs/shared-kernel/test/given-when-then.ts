import { fold, type Decider } from '../src/decider';
import { DomainError, type DomainErrorKind } from '../src/domain-error';

/** The refusal a spec expects: its stable code, its kind and, when there is one, the field it names. */
export interface ExpectedRefusal {
  readonly code: string;
  readonly kind: DomainErrorKind;
  readonly field?: string;
}

/**
 * The one given/when/then of decider specs: `given(...history).when(command).then(events)` or
 * `.thenThrows({ code, kind, field })`. The history is folded with the decider's own `evolve` from
 * its `initialState`, so that a spec states facts (events), never a hand-made state.
 */
export function deciderSpec<Command, Event, State>(decider: Decider<Command, Event, State>) {
  return (...history: readonly Event[]) => ({
    when(command: Command) {
      const run = (): readonly Event[] => decider.decide(command, fold(decider, history));
      return {
        /** The command produces exactly these events. */
        then(expected: readonly Event[]): void {
          expect(run()).toEqual(expected);
        },
        /** The events, for a spec that looks closer at them. */
        events(): readonly Event[] {
          return run();
        },
        /** The command is refused with a `DomainError` of this code, kind and field, in words. */
        thenThrows(expected: ExpectedRefusal): DomainError {
          let caught: unknown;
          try {
            run();
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(DomainError);
          const error = caught as DomainError;
          expect({ code: error.code, kind: error.kind, field: error.field }).toEqual({
            code: expected.code,
            kind: expected.kind,
            field: expected.field,
          });
          expect(error.message.length).toBeGreaterThan(10);
          return error;
        },
      };
    },
  });
}
