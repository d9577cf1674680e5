// The persons of one ingestion batch, worked out in memory before anything is written: events
// are applied in order with PostHog's rules (create on first sight, $set/$set_once/$unset,
// identify/alias merges into the person of `distinct_id`), then `plan()` says what to write.
// Pure: the caller loads the persons of every distinct id the batch mentions first.
import crypto from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { isIllegalMergeId, type IngestEvent } from './events.ts';

type Json = Record<string, unknown>;

export interface StoredPerson {
  id: number;
  uuid: string;
  properties: Json;
  createdAt: Date;
  isIdentified: boolean;
}

export class PersonState {
  dirty = false;
  /** Set when this person was merged into another one in this batch. */
  mergedInto?: PersonState;
  /** The properties before this batch (what an over-size update falls back to). */
  original: Json;

  constructor(
    /** Database id; undefined for a person this batch creates. */
    public id: number | undefined,
    readonly uuid: string,
    public properties: Json,
    public createdAt: Date,
    public isIdentified: boolean,
  ) {
    this.original = { ...properties };
  }

  get isNew(): boolean {
    return this.id === undefined;
  }
}

export type PersonWarning = 'cannot_merge_with_illegal_distinct_id' | 'cannot_merge_already_identified' | 'person_properties_size_violation';

/**
 * PostHog's person properties size limit (1 MiB as JSON): an update that would make a person's
 * properties larger is rejected. Every /flags for a person loads its properties, so this also
 * bounds what one stored person costs each later request.
 */
export const MAX_PERSON_PROPERTIES_BYTES = 1024 * 1024;

export interface PersonPlan {
  /** Persons to insert, in creation order. */
  created: PersonState[];
  /** Distinct ids to link, each to its person at the end of the batch. */
  distinctIds: Array<{ distinctId: string; person: PersonState }>;
  /** Stored persons merged away, in order: move their ids, overrides and memberships, then delete. */
  merges: Array<{ from: PersonState; into: PersonState }>;
  /** Stored persons whose properties, created_at or is_identified changed. */
  updated: PersonState[];
}

export function resolvePerson(person: PersonState): PersonState {
  let p = person;
  while (p.mergedInto) p = p.mergedInto;
  return p;
}

/** PostHog's applyEventPropertyUpdates: $set_once fills gaps, $set overwrites, $unset removes. */
function applyPropertyUpdates(properties: Json, event: IngestEvent): boolean {
  let changed = false;
  for (const [key, value] of Object.entries(event.setOnce)) {
    if (properties[key] === undefined) {
      properties[key] = value;
      changed = true;
    }
  }
  for (const [key, value] of Object.entries(event.set)) {
    if (!isDeepStrictEqual(properties[key], value)) {
      properties[key] = value;
      changed = true;
    }
  }
  for (const key of event.unset) {
    if (key in properties) {
      delete properties[key];
      changed = true;
    }
  }
  return changed;
}

export class PersonBatch {
  private readonly byDistinctId = new Map<string, PersonState>();
  private readonly linked = new Map<string, PersonState>();
  private readonly created: PersonState[] = [];
  private readonly merges: Array<{ from: PersonState; into: PersonState }> = [];
  private readonly stored: PersonState[] = [];
  readonly warnings: PersonWarning[] = [];

  constructor(loaded: Array<{ distinctId: string; person: StoredPerson }>) {
    const byId = new Map<number, PersonState>();
    for (const { distinctId, person } of loaded) {
      let state = byId.get(person.id);
      if (!state) {
        state = new PersonState(person.id, person.uuid, { ...person.properties }, person.createdAt, person.isIdentified);
        byId.set(person.id, state);
        this.stored.push(state);
      }
      this.byDistinctId.set(distinctId, state);
    }
  }

  /** Every distinct id an event refers to, for loading their persons first. */
  static distinctIdsOf(events: IngestEvent[]): string[] {
    const ids = new Set<string>();
    for (const e of events) {
      if (!e.processPerson) continue;
      ids.add(e.distinctId);
      if (e.merge) ids.add(e.merge.other);
    }
    return [...ids];
  }

  private lookup(distinctId: string): PersonState | undefined {
    const p = this.byDistinctId.get(distinctId);
    return p ? resolvePerson(p) : undefined;
  }

  private link(distinctId: string, person: PersonState): void {
    this.byDistinctId.set(distinctId, person);
    this.linked.set(distinctId, person);
  }

  private create(event: IngestEvent, distinctIds: string[], identified: boolean): PersonState {
    const properties: Json = { ...event.setOnce, ...event.set };
    if (event.uuid) properties.$creator_event_uuid = event.uuid;
    const person = new PersonState(undefined, crypto.randomUUID(), properties, event.timestamp, identified);
    person.original = event.uuid ? { $creator_event_uuid: event.uuid } : {};
    this.created.push(person);
    for (const id of distinctIds) this.link(id, person);
    return person;
  }

  /** PostHog's mergeDistinctIds; undefined when no merge applies (the plain path follows). */
  private merge(event: IngestEvent, other: string, into: string, dangerously: boolean): PersonState | undefined {
    if (other === into) return undefined;
    if (isIllegalMergeId(into) || isIllegalMergeId(other)) {
      this.warnings.push('cannot_merge_with_illegal_distinct_id');
      return undefined;
    }
    const otherPerson = this.lookup(other);
    const intoPerson = this.lookup(into);
    if (otherPerson && !intoPerson) {
      this.link(into, otherPerson);
      return otherPerson;
    }
    if (!otherPerson && intoPerson) {
      this.link(other, intoPerson);
      return intoPerson;
    }
    if (otherPerson && intoPerson) {
      if (otherPerson === intoPerson) return intoPerson;
      // $identify and $create_alias never merge away a person that is already identified.
      if (otherPerson.isIdentified && !dangerously) {
        this.warnings.push('cannot_merge_already_identified');
        return intoPerson;
      }
      // On conflicting keys the person of `distinct_id` wins; the older created_at is kept.
      intoPerson.properties = { ...otherPerson.properties, ...intoPerson.properties };
      if (otherPerson.createdAt < intoPerson.createdAt) intoPerson.createdAt = otherPerson.createdAt;
      intoPerson.dirty = true;
      otherPerson.mergedInto = intoPerson;
      if (!otherPerson.isNew) this.merges.push({ from: otherPerson, into: intoPerson });
      return intoPerson;
    }
    return this.create(event, [into, other], true);
  }

  /** Applies one event; returns the person it belongs to (undefined without person processing). */
  apply(event: IngestEvent): PersonState | undefined {
    if (!event.processPerson) return undefined;
    let person: PersonState | undefined;
    if (event.merge) {
      person = this.merge(event, event.merge.other, event.distinctId, event.merge.dangerously);
      if (person && !person.isIdentified) {
        person.isIdentified = true;
        person.dirty = true;
      }
    }
    if (!person) {
      person = this.lookup(event.distinctId);
      if (!person) return this.create(event, [event.distinctId], false);
    }
    if (applyPropertyUpdates(person.properties, event)) person.dirty = true;
    return person;
  }

  plan(): PersonPlan {
    const created = this.created.filter((p) => !p.mergedInto);
    const updated = this.stored.filter((p) => !p.mergedInto && p.dirty);
    for (const person of [...created, ...updated]) {
      if (Buffer.byteLength(JSON.stringify(person.properties)) <= MAX_PERSON_PROPERTIES_BYTES) continue;
      // This batch's updates to the person are rejected (a new person keeps only its creator event).
      person.properties = { ...person.original };
      this.warnings.push('person_properties_size_violation');
    }
    return {
      created,
      distinctIds: [...this.linked].map(([distinctId, person]) => ({ distinctId, person: resolvePerson(person) })),
      merges: this.merges,
      updated,
    };
  }
}
