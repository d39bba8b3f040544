/**
 * CloudTrail event ids: GUIDs, here time-ordered ones (RFC 9562 §5.7, UUIDv7: 48-bit Unix
 * milliseconds, then random bits). The trail's event-id index then grows at its right edge
 * instead of taking random inserts, which keeps appends cheap at tens of millions of events.
 */
import { fillRandom } from '../crypto/random-pool';

const scratch = Buffer.alloc(16);

/** A new UUIDv7 string for an event at `ms`. */
export function newEventId(ms: number): string {
  // 48-bit big-endian timestamp.
  scratch.writeUIntBE(Math.max(0, Math.floor(ms)) % 2 ** 48, 0, 6);
  fillRandom(scratch, 6, 10);
  scratch[6] = ((scratch[6] as number) & 0x0f) | 0x70; // version 7
  scratch[8] = ((scratch[8] as number) & 0x3f) | 0x80; // RFC 9562 variant
  const h = scratch.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
