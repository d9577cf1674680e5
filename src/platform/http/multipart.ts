// multipart/form-data bodies, as DRF's MultiPartParser reads them (cohort CSV uploads, the legacy
// flag API's `curl -F` examples), bounded: Fastify's bodyLimit caps the bytes; these cap the structure.
import { ParseError } from '../errors.ts';

const MAX_PARTS = 1000; // Django's DATA_UPLOAD_MAX_NUMBER_FIELDS
const MAX_PART_HEADER_BYTES = 8 * 1024;

export interface MultipartFields {
  /** Fields that repeat to form a list (DRF reads them with QueryDict.getlist). */
  listFields: ReadonlySet<string>;
  /** File fields kept (other file parts are dropped), each made into a value by `file`. */
  fileFields: ReadonlySet<string>;
  file?: (filename: string, contentType: string, data: Buffer) => unknown;
}

const multipartError = (reason: string) => new ParseError(`Multipart form parse error - ${reason}`);

function boundaryOf(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw multipartError('Invalid boundary in multipart: None');
  return boundary;
}

/** A header parameter such as name="x" or filename="a.csv" (quoted strings may escape quotes). */
function headerParam(header: string, param: string): string | undefined {
  const match = new RegExp(`;\\s*${param}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(header);
  if (!match) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
}

/**
 * Parses a multipart body into DRF-like request data: text fields by name (the last value wins,
 * list fields collect every value) and the chosen file parts.
 */
export function parseMultipart(body: Buffer, contentType: string, fields: MultipartFields): Record<string, unknown> {
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  const out: Record<string, unknown> = Object.create(null);
  let pos = body.indexOf(delimiter);
  if (pos === -1) throw multipartError('no opening boundary');
  let parts = 0;
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing "--boundary--"
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    else if (body[pos] === 0x0a) pos += 1;
    else throw multipartError('malformed boundary line');
    if (++parts > MAX_PARTS) throw multipartError(`more than ${MAX_PARTS} parts`);

    let headerEnd = body.indexOf('\r\n\r\n', pos);
    let bodyStart = headerEnd + 4;
    const lfEnd = body.indexOf('\n\n', pos);
    if (lfEnd !== -1 && (headerEnd === -1 || lfEnd < headerEnd)) {
      headerEnd = lfEnd;
      bodyStart = lfEnd + 2;
    }
    if (headerEnd === -1 || headerEnd - pos > MAX_PART_HEADER_BYTES) throw multipartError('part headers missing or too long');
    const headers = body.subarray(pos, headerEnd).toString('utf8').split(/\r?\n/);
    const next = body.indexOf(delimiter, bodyStart);
    if (next === -1) throw multipartError('missing closing boundary');
    let dataEnd = next;
    if (body[dataEnd - 1] === 0x0a) dataEnd -= body[dataEnd - 2] === 0x0d ? 2 : 1;
    const data = body.subarray(bodyStart, Math.max(bodyStart, dataEnd));
    pos = next;

    const disposition = headers.find((h) => /^content-disposition:/i.test(h));
    if (!disposition) continue;
    const name = headerParam(disposition, 'name');
    if (name === undefined || name === '__proto__') continue;
    const filename = headerParam(disposition, 'filename');
    if (filename !== undefined) {
      if (fields.fileFields.has(name) && fields.file) {
        const type = headers.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, '') ?? 'application/octet-stream';
        out[name] = fields.file(filename, type, Buffer.from(data));
      }
      continue;
    }
    const value = data.toString('utf8');
    if (fields.listFields.has(name)) out[name] = [...((out[name] as string[] | undefined) ?? []), value];
    else out[name] = value;
  }
  return { ...out };
}
