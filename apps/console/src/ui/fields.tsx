import type { InputHTMLAttributes, ReactNode } from 'react';
import { FieldProblemFor } from './choices';

/** What a labelled control shares: its id, and the ledger's problem for its field. */
interface FieldProps {
  /** The control's id (its label names it). */
  id: string;
  label: ReactNode;
  /** The field as the ledger names it in a problem. */
  field: string;
  /** The id of the problem's message, which describes the control while it is invalid. */
  problemId: string;
  problem: unknown;
  /** Whether the problem is this field's: then it is shown under the control. */
  invalid: boolean;
}

/** The frame of a labelled control: the label, the control, and the field's problem under it. */
function Field({
  id,
  label,
  field,
  problemId,
  problem,
  invalid,
  children,
}: FieldProps & { children: (aria: { 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ 'aria-invalid': invalid, 'aria-describedby': invalid ? problemId : undefined })}
      {invalid && <FieldProblemFor problem={problem} field={field} id={problemId} />}
    </div>
  );
}

/** A labelled input, with the ledger's problem for its field under it. */
export function TextField({
  id,
  label,
  field,
  problemId,
  problem,
  invalid,
  ...input
}: FieldProps & Omit<InputHTMLAttributes<HTMLInputElement>, keyof FieldProps>) {
  return (
    <Field {...{ id, label, field, problemId, problem, invalid }}>
      {(aria) => <input id={id} {...input} {...aria} />}
    </Field>
  );
}

/** A labelled choice of one of `options` (after `placeholder`, the empty choice, when given). */
export function SelectField<T extends string>({
  value,
  onChange,
  placeholder,
  options,
  optionLabel,
  ...frame
}: FieldProps & {
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  options: readonly T[];
  optionLabel: (option: T) => ReactNode;
}) {
  return (
    <Field {...frame}>
      {(aria) => (
        <select id={frame.id} value={value} onChange={(e) => onChange(e.target.value)} {...aria}>
          {placeholder !== undefined && <option value="">{placeholder}</option>}
          {options.map((option) => (
            <option key={option} value={option}>
              {optionLabel(option)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
