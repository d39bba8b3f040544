/**
 * Canonical encoding of an encryption context for use as AES-GCM additional data. Pairs are
 * sorted by the UTF-8 bytes of their keys and every field is length-prefixed, so no two
 * different contexts encode alike ({"a":"bc"} vs {"ab":"c"} included).
 */

/** A string-to-string encryption context as it arrives on the wire. */
export type EncryptionContext = Readonly<Record<string, string>>;

const EMPTY = Buffer.alloc(4);

/** Encodes `ctx` as u32 count, then for each pair u32 len | key | u32 len | value (big-endian). */
export function canonicalEncryptionContext(ctx: EncryptionContext | undefined): Buffer {
  if (ctx === undefined) return EMPTY;
  const keys = Object.keys(ctx);
  if (keys.length === 0) return EMPTY;
  const pairs: [Buffer, Buffer][] = keys.map((k) => [Buffer.from(k, 'utf8'), Buffer.from(ctx[k] as string, 'utf8')]);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  let size = 4;
  for (const [k, v] of pairs) size += 8 + k.length + v.length;
  const out = Buffer.allocUnsafe(size);
  let o = out.writeUInt32BE(pairs.length, 0);
  for (const [k, v] of pairs) {
    o = out.writeUInt32BE(k.length, o);
    o += k.copy(out, o);
    o = out.writeUInt32BE(v.length, o);
    o += v.copy(out, o);
  }
  return out;
}
