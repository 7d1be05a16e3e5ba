import type { EventMetadata, JsonObject, RecordedEvent } from '@nrm/event-store';
import { canonicalJson } from './canonical-json';
import { leafHash } from './merkle';

/**
 * What a leaf of the log commits to: the whole stored event, in the store's own
 * field names. Its bytes are the canonical JSON of this record.
 */
export interface LeafRecord {
  readonly position: number;
  readonly id: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
  readonly recordedAt: string;
}

export const LEAF_FIELDS = [
  'data',
  'id',
  'metadata',
  'position',
  'recordedAt',
  'revision',
  'schemaVersion',
  'stream',
  'type',
] as const satisfies readonly (keyof LeafRecord)[];

/**
 * The leaf record of a stored event: exactly the fields of `RecordedEvent`
 * (the same shape as `LeafRecord`), never anything else an adapter may attach.
 */
export function leafRecord(event: RecordedEvent | LeafRecord): LeafRecord {
  return {
    position: event.position,
    id: event.id,
    stream: event.stream,
    revision: event.revision,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.recordedAt,
  };
}

/** The canonical JSON of a value as UTF-8 bytes. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** The bytes of a leaf: the canonical JSON of the event's leaf record. */
export function leafBytes(event: RecordedEvent | LeafRecord): Buffer {
  return canonicalBytes(leafRecord(event));
}

/** SHA-256(0x00 ‖ canonical JSON of the event): the leaf the log holds for a stored event. */
export function eventLeafHash(event: RecordedEvent | LeafRecord): Buffer {
  return leafHash(canonicalJson(leafRecord(event)));
}

function isSafeInteger(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a parsed value is not a leaf record, or undefined when it is one. */
export function leafRecordProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'the event is not an object';
  const names = Object.keys(value).sort();
  if (names.length !== LEAF_FIELDS.length || names.some((name, i) => name !== LEAF_FIELDS[i]))
    return `the event must have exactly the fields ${LEAF_FIELDS.join(', ')}`;
  if (!isSafeInteger(value.position, 1)) return 'position must be a whole number from 1';
  if (!isSafeInteger(value.revision, 0)) return 'revision must be a whole number from 0';
  if (!isSafeInteger(value.schemaVersion, 1)) return 'schemaVersion must be a whole number from 1';
  for (const name of ['id', 'stream', 'type', 'recordedAt'] as const)
    if (typeof value[name] !== 'string' || value[name] === '') return `${name} must be a non-empty string`;
  if (!isObject(value.data)) return 'data must be an object';
  if (!isObject(value.metadata)) return 'metadata must be an object';
  return undefined;
}
