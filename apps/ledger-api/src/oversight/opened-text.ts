import type { AccessLogEntry } from '@nrm/projections';
import { openTextFor, type SubjectKeyStore } from '@nrm/privacy';
import type { ErasedMark } from '@nrm/shared-kernel';

/** An access-log entry as a reader is shown it: its justification opened, or the erased mark. */
export type OpenedAccessLogEntry = Omit<AccessLogEntry, 'justification'> & {
  readonly justification?: string | ErasedMark;
};

/**
 * Opens the break-glass justifications of access-log entries with their subjects' keys: sealed
 * ones (schema 2) are opened, or shown as `{ "erased": true }` once the subject is erased; those
 * kept in clear (schema 1) are shown as they are.
 */
export async function openJustifications(
  keys: SubjectKeyStore,
  entries: readonly AccessLogEntry[],
): Promise<OpenedAccessLogEntry[]> {
  const opened: OpenedAccessLogEntry[] = [];
  for (const entry of entries) {
    if (entry.justification === undefined) opened.push(entry as OpenedAccessLogEntry);
    else opened.push({ ...entry, justification: await openTextFor(keys, entry.justification) });
  }
  return opened;
}
