import { isIP } from 'node:net';

// IP addresses as bytes, CIDR ranges, and the special-purpose ranges a relay address is judged
// by. Parsed here rather than with node:net's BlockList, which does not look inside the IPv4
// address an IPv4-mapped IPv6 address (::ffff:169.254.169.254) carries.

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Cidr {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
  /** As given, normalized: `10.0.0.0/8`. */
  text: string;
}

/** The address a literal names (an IPv6 zone `%eth0` and brackets ignored); undefined for a name. */
export function parseIp(text: string): IpAddress | undefined {
  const value = text.trim().replace(/^\[(.*)\]$/, '$1');
  const bare = value.replace(/%[^%]*$/, '');
  const family = isIP(bare);
  if (family === 4) return { family: 4, bytes: parseIpv4(bare) };
  if (family === 6) return { family: 6, bytes: parseIpv6(bare) };
  return undefined;
}

function parseIpv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

function parseIpv6(text: string): Uint8Array {
  const bytes = new Uint8Array(16);
  let groups: string[];
  const [head = '', tail] = text.split('::');
  const parts = (s: string) => (s === '' ? [] : s.split(':'));
  const expand = (list: string[]) =>
    list.flatMap((group) => {
      if (group.includes('.')) {
        const v4 = parseIpv4(group);
        return [((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0)].map((n) =>
          n.toString(16),
        );
      }
      return [group];
    });
  if (tail === undefined) {
    groups = expand(parts(head));
  } else {
    const left = expand(parts(head));
    const right = expand(parts(tail));
    groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  }
  groups.forEach((group, i) => {
    const n = Number.parseInt(group, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return bytes;
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (a /32 or /128); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [addressText = '', prefixText, ...rest] = text.trim().split('/');
  if (rest.length > 0 || addressText.includes('%')) return undefined;
  const address = parseIp(addressText);
  if (!address || addressText.startsWith('[')) return undefined;
  const max = address.family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  const bytes = masked(address.bytes, prefix);
  return {
    family: address.family,
    bytes,
    prefix,
    text: `${formatIp({ family: address.family, bytes })}/${prefix}`,
  };
}

function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = (bytes[i] ?? 0) & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  const inner = address.family === cidr.family ? address : embeddedIpv4(address);
  if (!inner || inner.family !== cidr.family) return false;
  const m = masked(inner.bytes, cidr.prefix);
  return m.every((byte, i) => byte === cidr.bytes[i]);
}

/** Whether two ranges share an address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const prefix = Math.min(a.prefix, b.prefix);
  const ma = masked(a.bytes, prefix);
  const mb = masked(b.bytes, prefix);
  return ma.every((byte, i) => byte === mb[i]);
}

export function formatIp(address: IpAddress): string {
  if (address.family === 4) return [...address.bytes].join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address.bytes[i] ?? 0) << 8) | (address.bytes[i + 1] ?? 0));
  // The longest run of zero groups (two or more) becomes "::" (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/**
 * The IPv4 address inside an IPv6 one that carries it: IPv4-mapped (`::ffff:a.b.c.d`), the
 * NAT64 well-known prefix (`64:ff9b::a.b.c.d`) and IPv4-compatible (`::a.b.c.d`, deprecated).
 * A connection to any of them reaches (or may reach) the IPv4 address.
 */
export function embeddedIpv4(address: IpAddress): IpAddress | undefined {
  if (address.family !== 6) return undefined;
  const b = address.bytes;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = { family: 4 as const, bytes: b.slice(12, 16) };
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4;
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return v4;
  // ::/96 minus :: and ::1 (their own ranges below)
  if (zeros(0, 12) && !(zeros(12, 15) && (b[15] === 0 || b[15] === 1))) return v4;
  return undefined;
}

/** What a relay address is, as far as where it leads matters. */
export type AddressKind =
  /** The instance metadata service (169.254.169.254, fd00:ec2::254): never a relay. */
  | 'metadata'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'unique-local'
  | 'public';

interface Range {
  cidr: Cidr;
  kind: AddressKind;
  label: string;
}

const range = (text: string, kind: AddressKind, label: string): Range => {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`bad built-in range ${text}`);
  return { cidr, kind, label };
};

/** First match wins: the metadata addresses before the ranges they are in. */
export const SPECIAL_RANGES: readonly Range[] = [
  range('169.254.169.254/32', 'metadata', 'the instance metadata service'),
  range('fd00:ec2::254/128', 'metadata', 'the instance metadata service (IPv6)'),
  range('169.254.0.0/16', 'link-local', 'link-local (169.254.0.0/16)'),
  range('fe80::/10', 'link-local', 'link-local (fe80::/10)'),
  range('0.0.0.0/8', 'unspecified', '"this network" (0.0.0.0/8)'),
  range('::/128', 'unspecified', 'the unspecified address (::)'),
  range('224.0.0.0/4', 'multicast', 'multicast (224.0.0.0/4)'),
  range('ff00::/8', 'multicast', 'multicast (ff00::/8)'),
  range('255.255.255.255/32', 'broadcast', 'broadcast (255.255.255.255)'),
  range('240.0.0.0/4', 'reserved', 'reserved (240.0.0.0/4)'),
  range('127.0.0.0/8', 'loopback', 'loopback (127.0.0.0/8)'),
  range('::1/128', 'loopback', 'loopback (::1)'),
  range('10.0.0.0/8', 'private', 'private (10.0.0.0/8)'),
  range('172.16.0.0/12', 'private', 'private (172.16.0.0/12)'),
  range('192.168.0.0/16', 'private', 'private (192.168.0.0/16)'),
  range('100.64.0.0/10', 'shared', 'carrier-grade NAT (100.64.0.0/10)'),
  range('fc00::/7', 'unique-local', 'unique local (fc00::/7)'),
];

/** Never a relay, whatever the deployment allows. */
export const ALWAYS_REFUSED_KINDS: ReadonlySet<AddressKind> = new Set([
  'metadata',
  'link-local',
  'unspecified',
  'multicast',
  'broadcast',
  'reserved',
]);

export interface AddressClass {
  kind: AddressKind;
  /** The range in words, e.g. `link-local (169.254.0.0/16)`; `public` for the rest. */
  label: string;
}

/** The special-purpose range an address is in (an IPv4 address inside an IPv6 one counts as that). */
export function classifyIp(address: IpAddress): AddressClass {
  const inner = embeddedIpv4(address);
  const subject = inner ?? address;
  for (const r of SPECIAL_RANGES) {
    if (cidrContains(r.cidr, subject)) {
      return { kind: r.kind, label: inner ? `${r.label}, as an IPv4 address inside IPv6` : r.label };
    }
  }
  return { kind: 'public', label: 'public' };
}
