// Static cohort membership: people given by distinct ids, person uuids or a CSV (parsed as
// PostHog's _calculate_static_by_csv does); distinct ids never seen get a new, empty person.
import type { Db } from '../platform/db/index.ts';
import { addCohortMembers } from './repository.ts';
import { findOrCreatePersonsByDistinctIds, findPersonIdsByEmails, findPersonIdsByUuids } from '../persons/repository.ts';
import type { CohortWriteInput, UploadedFile } from './schemas.ts';
import { ValidationError } from '../platform/errors.ts';

const CSV_ERRORS = {
  EMPTY_FILE: 'CSV file is empty. Please upload a CSV file with at least one row of data.',
  MISSING_ID_COLUMN:
    "Multi-column CSV must contain at least one column with a supported ID header: 'person_id', 'Person .id' (PostHog export format), 'distinct_id', 'distinct-id', or 'email'. Found columns: ",
  NO_VALID_IDS:
    'CSV file contains no valid person IDs, distinct IDs, or email addresses. Please ensure your file has data rows with person IDs, distinct IDs, or email addresses.',
  ENCODING_ERROR: 'CSV file encoding is not supported. Please save your file as UTF-8 and try again.',
};
const PERSON_ID_HEADERS = ['person_id', 'person-id', 'person .id'];
const DISTINCT_ID_HEADERS = ['distinct_id', 'distinct-id'];
const EMAIL_HEADERS = ['email', 'e-mail'];

export type CsvIdType = 'distinct_id' | 'person_id' | 'email';

/** One line as Python's csv.reader (excel dialect) reads it; an empty line is an empty row. */
function csvRow(line: string): string[] {
  if (line === '') return [];
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

const csvError = (message: string) => new ValidationError(message, 'invalid_input', 'csv');

/**
 * PostHog's _calculate_static_by_csv: a single column is a list of distinct ids (a `person_id` or
 * `email` header switches the id type); several columns need a recognised id header. flaghost
 * also skips a single-column `distinct_id` header, because it would otherwise create a person.
 */
export function parseCohortCsv(file: UploadedFile): { ids: string[]; idType: CsvIdType } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.data);
  } catch {
    throw csvError(CSV_ERRORS.ENCODING_ERROR);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // Python's str.splitlines() boundaries.
  const rows = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/).map(csvRow);
  if (rows.length && rows.at(-1)!.length === 0 && /[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]$/.test(text)) rows.pop();
  const start = rows.findIndex((r) => r.length > 0);
  if (start === -1) throw csvError(CSV_ERRORS.EMPTY_FILE);
  const [first, ...rest] = rows.slice(start);
  const header = (cell: string | undefined) => (cell ?? '').trim().toLowerCase();

  let ids: string[];
  let idType: CsvIdType;
  if (first.filter((c) => c.trim()).length <= 1) {
    const head = header(first[0]);
    idType = PERSON_ID_HEADERS.includes(head) ? 'person_id' : EMAIL_HEADERS.includes(head) ? 'email' : 'distinct_id';
    const skipHeader = idType !== 'distinct_id' || DISTINCT_ID_HEADERS.includes(head);
    ids = (skipHeader ? rest : [first, ...rest])
      .filter((r) => r.length > 0)
      .map((r) => r[0].trim())
      .filter((id) => id !== '');
  } else {
    const heads = first.map(header);
    const find = (names: string[]) => heads.findIndex((h) => names.includes(h));
    const columns: Array<[number, CsvIdType]> = [
      [find(PERSON_ID_HEADERS), 'person_id'],
      [find(DISTINCT_ID_HEADERS), 'distinct_id'],
      [find(EMAIL_HEADERS), 'email'],
    ];
    const found = columns.find(([index]) => index !== -1);
    if (!found) {
      const available = first.filter((h) => h.trim());
      throw csvError(CSV_ERRORS.MISSING_ID_COLUMN + (available.length ? available.join(', ') : 'none'));
    }
    const [column, type] = found;
    idType = type;
    ids = rest
      .filter((r) => r.length > column)
      .map((r) => r[column].trim())
      .filter((id) => id !== '');
  }
  if (!ids.length) throw csvError(CSV_ERRORS.NO_VALID_IDS);
  return { ids, idType };
}

/** Adds the requested people to a static cohort; distinct ids never seen get a new, empty person. */
export async function addStaticMembers(tx: Db, projectId: number, cohortId: number, input: CohortWriteInput): Promise<void> {
  const personIds: number[] = [];
  const byDistinctId = async (ids: string[]) => personIds.push(...(await findOrCreatePersonsByDistinctIds(tx, projectId, ids)).values());
  if (input.personUuids?.length) personIds.push(...(await findPersonIdsByUuids(tx, projectId, input.personUuids)));
  if (input.distinctIds?.length) await byDistinctId(input.distinctIds);
  if (input.csv) {
    const { ids, idType } = parseCohortCsv(input.csv);
    if (idType === 'distinct_id') await byDistinctId(ids);
    else if (idType === 'person_id') personIds.push(...(await findPersonIdsByUuids(tx, projectId, ids)));
    else personIds.push(...(await findPersonIdsByEmails(tx, projectId, ids)));
  }
  await addCohortMembers(tx, cohortId, personIds);
}
