// The definitions body of a snapshot, assembled from per-flag JSON pieces (each rendered once per
// flag change, see snapshot-pieces.ts), with a content-derived ETag and a gzip made off the event
// loop (docs/architecture.md#flag-definitions).
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { TimeSlicer } from './time-slice.ts';

/** One answer to a definitions GET, as both paths write it: status, flat header list, body. */
export interface DefinitionsAnswer {
  status: 200 | 304;
  /** Name/value pairs (what node:http writes fastest). */
  headers: readonly string[];
  body?: Buffer;
}

export interface DefinitionsBody {
  json: Buffer;
  /** Weak-ETag value without the W/ and quotes. */
  etag: string;
  /** `W/"<etag>"`, as sent and as SDKs echo it back. */
  weakEtag: string;
  /** Whether an If-None-Match header names this body (weak, strong, unquoted, or in a list). */
  notModified(ifNoneMatch: string | undefined): boolean;
  /** The JSON gzipped on the thread pool, started on first use (or by `prepareGzip`). */
  gzip(): Promise<Buffer>;
  /** The answers, built once per body: 304, the JSON, and the JSON gzipped (a promise until the gzip is done). */
  notModifiedAnswer: DefinitionsAnswer;
  jsonAnswer: DefinitionsAnswer;
  gzipAnswer(): DefinitionsAnswer | Promise<DefinitionsAnswer>;
}

/**
 * One flag's entry as UTF-8 JSON, and its digest. Kept as bytes: assembling a body then copies
 * memory instead of encoding 5 MB of text again on every rebuild.
 */
export interface Piece {
  bytes: Buffer;
  digest: string;
}

export function makePiece(json: string): Piece {
  const bytes = Buffer.from(json, 'utf8');
  return { bytes, digest: crypto.createHash('sha256').update(bytes).digest('base64') };
}

function etagListMatches(header: string, etag: string): boolean {
  return header.split(',').some((candidate) => {
    const value = candidate
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
    return value === etag || value === '*';
  });
}

const PREFIX = '{"flags":[';

/**
 * `{"flags":[<pieces>],"group_type_mapping":…,"cohorts":…}`, byte for byte what JSON.stringify
 * of buildDefinitions() gives, written in slices. The ETag hashes the variant, the pieces'
 * digests in order and the rest of the body: the same content gives the same ETag on every
 * instance, and any change of a byte changes it.
 */
export async function assembleDefinitionsBody(
  pieces: readonly Piece[],
  rest: { group_type_mapping: Record<string, string>; cohorts: Record<string, unknown> },
  sendCohorts: boolean,
  slicer: TimeSlicer,
): Promise<DefinitionsBody> {
  const suffix = `],"group_type_mapping":${JSON.stringify(rest.group_type_mapping)},"cohorts":${JSON.stringify(rest.cohorts)}}`;
  let size = PREFIX.length + Buffer.byteLength(suffix) + Math.max(0, pieces.length - 1);
  for (const piece of pieces) size += piece.bytes.length;
  const json = Buffer.allocUnsafeSlow(size);
  // The two variants get different ETags even when their bodies are equal (PostHog keys its
  // cache by variant), so a 304 never crosses from one to the other.
  const hash = crypto.createHash('sha256').update(sendCohorts ? 'cohorts\n' : 'expanded\n');
  let offset = json.write(PREFIX, 0, 'latin1');
  let digests = '';
  for (let i = 0; i < pieces.length; i++) {
    if (i > 0) json[offset++] = 0x2c; // ,
    json.set(pieces[i].bytes, offset);
    offset += pieces[i].bytes.length;
    digests += pieces[i].digest;
    if (i % 512 === 511) {
      hash.update(digests);
      digests = '';
      if (slicer.due()) await slicer.next();
    }
  }
  json.write(suffix, offset, 'utf8');
  const etag = hash.update(digests).update('\n').update(suffix).digest('hex').slice(0, 32);
  return definitionsBody(json, etag);
}

function definitionsBody(json: Buffer, etag: string): DefinitionsBody {
  let gz: Promise<Buffer> | undefined;
  let gzipAnswer: DefinitionsAnswer | undefined;
  const weakEtag = `W/"${etag}"`;
  // PostHog answers definitions as `application/json` (docs/compatibility.md).
  const common = ['etag', weakEtag, 'cache-control', 'private, must-revalidate', 'vary', 'Accept-Encoding'];
  const gzip = () =>
    (gz ??= new Promise<Buffer>((resolve, reject) => zlib.gzip(json, { level: 6 }, (err, out) => (err ? reject(err) : resolve(out)))).then((out) => {
      gzipAnswer = {
        status: 200,
        headers: [...common, 'content-type', 'application/json', 'content-encoding', 'gzip', 'content-length', String(out.length)],
        body: out,
      };
      return out;
    }));
  return {
    json,
    etag,
    weakEtag,
    // SDKs echo the weak form exactly: compare that first, parse the header only otherwise.
    notModified: (header) => header !== undefined && (header === weakEtag || etagListMatches(header, etag)),
    gzip,
    notModifiedAnswer: { status: 304, headers: common },
    jsonAnswer: { status: 200, headers: [...common, 'content-type', 'application/json', 'content-length', String(json.length)], body: json },
    gzipAnswer: () => gzipAnswer ?? gzip().then(() => gzipAnswer!),
  };
}
