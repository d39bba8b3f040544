/**
 * The few request headers the pipeline reads, found in one pass over `rawHeaders`. Reading
 * `req.headers` makes Node build an object holding every header, lowercasing each name, on
 * every request (~1.5 µs measured in isolation, more amid a request's other work; issue 11, hot
 * path). Duplicates follow Node's rules for `req.headers` (node:_http_incoming
 * `matchKnownFields`): Content-Type, Content-Length, User-Agent and Authorization keep the first
 * value; other headers (X-Amz-Target) are joined with ", ".
 */

/** What the listener reads of a request's headers. */
export interface RequestHeaders {
  readonly contentType: string | undefined;
  readonly contentLength: string | undefined;
  readonly target: string | undefined;
  readonly authorization: string | undefined;
  readonly userAgent: string | undefined;
}

/** Case-insensitive match against a lowercase name; lowercases only when the length agrees. */
function is(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}

/** One pass over Node's `rawHeaders` (name, value, name, value, ...). */
export function scanRequestHeaders(raw: readonly string[]): RequestHeaders {
  let contentType: string | undefined;
  let contentLength: string | undefined;
  let target: string | undefined;
  let authorization: string | undefined;
  let userAgent: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    switch (name.length) {
      case 10:
        if (userAgent === undefined && is(name, 'user-agent')) userAgent = value;
        break;
      case 12:
        if (is(name, 'x-amz-target')) target = target === undefined ? value : `${target}, ${value}`;
        else if (contentType === undefined && is(name, 'content-type')) contentType = value;
        break;
      case 13:
        if (authorization === undefined && is(name, 'authorization')) authorization = value;
        break;
      case 14:
        if (contentLength === undefined && is(name, 'content-length')) contentLength = value;
        break;
    }
  }
  return { contentType, contentLength, target, authorization, userAgent };
}
