/**
 * Tag rules shared by CreateKey and TagResource: at most 50 tags per key, no duplicate keys in
 * one request, and the `aws:` prefix reserved (kms-reference.md §6 TagList).
 */
import { ServiceError } from '../errors';
import type { TagRecord } from '../store/records';

export const MAX_TAGS_PER_KEY = 50;

/** Checks the tags of one request. */
export function validateTags(tags: readonly TagRecord[]): void {
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.TagKey.startsWith('aws:')) throw new ServiceError('TagException', 'Tag keys beginning with aws: are reserved.');
    if (seen.has(t.TagKey)) throw new ServiceError('TagException', 'Duplicate tag keys are not allowed in one request.');
    seen.add(t.TagKey);
  }
  if (tags.length > MAX_TAGS_PER_KEY) {
    throw new ServiceError('TagException', `A key can have at most ${MAX_TAGS_PER_KEY} tags.`);
  }
}
