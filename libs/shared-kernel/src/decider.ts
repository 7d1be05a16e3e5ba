/**
 * A bounded context's rules as three pure functions: no framework, no I/O, no clock.
 * `decide` returns the events a command produces or throws a `DomainError`.
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): readonly Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** Payloads are plain JSON so that they survive the event store unchanged. */
export type JsonData = { readonly [key: string]: unknown };

/** A domain event: past-tense type, its payload's schema version, plain-JSON data. */
export interface DomainEvent<Type extends string = string, Data extends JsonData = JsonData> {
  readonly type: Type;
  readonly schemaVersion: number;
  readonly data: Data;
}

/** A command: imperative type, plain data, and who acts when. */
export interface DomainCommand<
  Type extends string = string,
  Data extends JsonData = JsonData,
  Metadata = unknown,
> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: Metadata;
}

/** Folds a history into a state. */
export function fold<Event, State>(
  decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>,
  events: Iterable<Event>,
): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}
