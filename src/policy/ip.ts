/**
 * IPv4 and IPv6 addresses and CIDR blocks for the IpAddress/NotIpAddress operators
 * (reference_policies_elements_condition_operators: "standard CIDR format … If you specify an IP
 * address without the associated routing prefix, IAM uses the default prefix value of /32").
 * Addresses become 32-bit words (one for IPv4, four for IPv6) so a match is a few masked
 * comparisons; node:net's BlockList costs microseconds per check. IPv4-mapped IPv6 request
 * addresses (`::ffff:203.0.113.9`, as a dual-stack socket reports them) count as IPv4.
 */
import { isIP } from 'node:net';

/** A parsed address: its family and 32-bit words, most significant first. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly words: readonly number[];
}

/** A CIDR block: masked network words and the prefix length. */
export interface CidrBlock {
  readonly family: 4 | 6;
  readonly words: readonly number[];
  readonly masks: readonly number[];
  readonly prefix: number;
}

/** The 32-bit value of a dotted-quad IPv4 address; -1 when it is not one (no leading zeros). */
function ipv4Word(s: string): number {
  let word = 0;
  let octets = 0;
  let i = 0;
  while (octets < 4) {
    const start = i;
    let n = 0;
    while (i < s.length && i - start < 3) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      n = n * 10 + c;
      i++;
    }
    const len = i - start;
    if (len === 0 || n > 255 || (len > 1 && s.charCodeAt(start) === 48)) return -1;
    word = word * 256 + n;
    octets++;
    if (octets < 4) {
      if (s.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  return i === s.length ? word : -1;
}

/** Eight 16-bit groups of a valid IPv6 address (validated by the caller). */
function ipv6Groups(s: string): number[] {
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    // An embedded IPv4 tail (`::ffff:192.0.2.1`) becomes two hex groups.
    const w = ipv4Word(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(w >>> 16).toString(16)}:${(w & 0xffff).toString(16)}`;
  }
  const parse = (h: string): number[] => (h === '' ? [] : h.split(':').map((g) => parseInt(g, 16)));
  const gap = text.indexOf('::');
  if (gap < 0) return parse(text);
  const head = parse(text.slice(0, gap));
  const tail = parse(text.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** Parses an IPv4 or IPv6 address; undefined when it is not one (zone ids are refused). */
export function parseIp(s: string): IpAddress | undefined {
  const v4 = ipv4Word(s);
  if (v4 >= 0) return { family: 4, words: [v4] };
  const mapped = MAPPED_V4.exec(s);
  if (mapped !== null) {
    const w = ipv4Word(mapped[1] as string);
    return w >= 0 ? { family: 4, words: [w] } : undefined;
  }
  if (isIP(s) !== 6 || s.includes('%')) return undefined;
  const g = ipv6Groups(s);
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push((((g[i] as number) << 16) | (g[i + 1] as number)) >>> 0);
  return { family: 6, words };
}

/** Parses `203.0.113.0/24`, `2001:DB8::/32` or a bare address (/32 or /128). */
export function parseCidrBlock(s: string): CidrBlock | undefined {
  const slash = s.indexOf('/');
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (ip === undefined) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  const masks = ip.words.map((_, i) => {
    const bits = Math.min(Math.max(prefix - 32 * i, 0), 32);
    return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  });
  return { family: ip.family, words: ip.words.map((w, i) => (w & (masks[i] as number)) >>> 0), masks, prefix };
}

/** Whether the address lies in the block. */
export function cidrContains(block: CidrBlock, ip: IpAddress): boolean {
  if (block.family !== ip.family) return false;
  for (let i = 0; i < block.words.length; i++) {
    if ((((ip.words[i] as number) & (block.masks[i] as number)) >>> 0) !== block.words[i]) return false;
  }
  return true;
}
