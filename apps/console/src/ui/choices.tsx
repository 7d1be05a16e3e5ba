import type { ReactNode } from 'react';
import { ApiProblem } from '../api/problem';
import { FieldProblem } from './problem';

/**
 * The field a problem names, as a form knows it: `agencyIds[2]` is the agencies list, and
 * `capture.language` stays as it is.
 */
export function formField(field: string | undefined): string | undefined {
  return field?.replace(/\[\d+\]$/, '');
}

/** A group of checkboxes under a legend; the ledger's problem for the group is shown inside it. */
export function CheckboxGroup<T extends string>({
  id,
  legend,
  field,
  options,
  chosen,
  onChange,
  label,
  problem,
  invalid,
}: {
  id: string;
  legend: string;
  field: string;
  options: readonly T[];
  chosen: readonly T[];
  onChange: (next: T[]) => void;
  label: (option: T) => ReactNode;
  problem: unknown;
  invalid: boolean;
}) {
  const problemId = `${id}-${field}-problem`;
  return (
    <fieldset className="choices" aria-describedby={invalid ? problemId : undefined}>
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option} className="choice">
          <input
            type="checkbox"
            name={field}
            value={option}
            checked={chosen.includes(option)}
            onChange={(e) =>
              onChange(e.target.checked ? [...chosen, option] : chosen.filter((c) => c !== option))
            }
          />{' '}
          {label(option)}
        </label>
      ))}
      {invalid && <FieldProblemFor problem={problem} field={field} id={problemId} />}
    </fieldset>
  );
}

/** FieldProblem, for a problem whose field is an item of a list (`agencyIds[0]`) or the list itself. */
export function FieldProblemFor({ problem, field, id }: { problem: unknown; field: string; id: string }) {
  if (!(problem instanceof ApiProblem) || formField(problem.field) !== field) return null;
  const { status, code, detail, requestId } = problem;
  return (
    <FieldProblem problem={new ApiProblem(status, code, detail, field, requestId)} field={field} id={id} />
  );
}
