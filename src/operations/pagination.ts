/**
 * Pagination as AWS KMS does it: Limit, an opaque Marker, Truncated and NextMarker (present only
 * when Truncated). Markers are base64url of the last item's sort key; a marker that does not
 * decode is InvalidMarkerException.
 */
import { ServiceError } from '../errors';

const PREFIX = 'kh1:';

/** Encodes the sort key of the last item returned. */
export function encodeMarker(lastKey: string): string {
  return Buffer.from(PREFIX + lastKey, 'utf8').toString('base64url');
}

/** Decodes a Marker; undefined when there is none. */
export function decodeMarker(marker: string | undefined): string | undefined {
  if (marker === undefined) return undefined;
  const s = /^[A-Za-z0-9_-]+$/.test(marker) ? Buffer.from(marker, 'base64url').toString('utf8') : '';
  if (!s.startsWith(PREFIX)) throw new ServiceError('InvalidMarkerException', 'The marker is not valid.');
  return s.slice(PREFIX.length);
}

/** Checks a Limit against an operation's documented maximum and applies its default. */
export function pageLimit(limit: number | undefined, max: number, dflt: number): number {
  if (limit === undefined) return dflt;
  if (limit > max) {
    throw new ServiceError(
      'ValidationException',
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  return limit;
}

/**
 * Fetches one page: asks for limit+1 items to learn whether more follow. `sortKey` gives the
 * key the store orders by.
 */
export async function page<T>(
  marker: string | undefined,
  limit: number,
  fetch: (after: string | undefined, n: number) => Promise<T[]>,
  sortKey: (item: T) => string,
): Promise<{ items: T[]; Truncated: boolean; NextMarker?: string }> {
  const rows = await fetch(decodeMarker(marker), limit + 1);
  if (rows.length <= limit) return { items: rows, Truncated: false };
  const items = rows.slice(0, limit);
  return { items, Truncated: true, NextMarker: encodeMarker(sortKey(items[items.length - 1] as T)) };
}
