import { DATA_CATEGORIES, type DataCategory } from '@nrm/shared-kernel';

/**
 * What a contract field says, and so who may receive it:
 * - a data category: only an agency for which consent or a lawful basis covers that category;
 * - `'non-personal'`: facts about agencies, referrals and consents that say nothing about the person
 *   (ids of agencies, referrals and consents, statuses, instants of handoffs); every addressee gets them.
 */
export type FieldTag = DataCategory | 'non-personal';

/** One tag for every field of a payload: a field added to a contract without a tag does not compile. */
export type FieldTags<Payload> = { readonly [K in keyof Payload]-?: FieldTag };

/** A JSON value as a contract payload carries it. */
export type ContractValue = string | number | boolean | readonly string[];

export interface Redacted<Payload> {
  readonly payload: Payload;
  /** The data categories of the fields kept, in the order of DATA_CATEGORIES. */
  readonly categories: readonly DataCategory[];
  /** Whether any field tagged with a data category was kept (non-personal fields alone do not count). */
  readonly carriesCaseData: boolean;
}

/**
 * Keeps the fields whose tag the audience is entitled to, and the non-personal ones. A field the
 * audience is not entitled to is absent from the result, never null; so is a field with no value.
 * Only fields named in `tags` are kept: a value the mapper set by mistake under another name is dropped.
 */
export function redact<Payload extends object>(
  full: Payload,
  tags: FieldTags<Payload>,
  entitled: ReadonlySet<DataCategory>,
): Redacted<Payload> {
  const payload: { [key: string]: ContractValue } = {};
  const categories: DataCategory[] = [];
  for (const key of Object.keys(tags) as Array<keyof Payload & string>) {
    const value = (full as { readonly [key: string]: ContractValue | undefined })[key];
    if (value === undefined) continue;
    const tag = tags[key];
    if (tag !== 'non-personal') {
      if (!entitled.has(tag)) continue;
      if (!categories.includes(tag)) categories.push(tag);
    }
    payload[key] = Array.isArray(value) ? [...(value as readonly string[])] : value;
  }
  categories.sort((a, b) => DATA_CATEGORIES.indexOf(a) - DATA_CATEGORIES.indexOf(b));
  return { payload: payload as Payload, categories, carriesCaseData: categories.length > 0 };
}
