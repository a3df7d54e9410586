// IPv4/IPv6 networks as bigints, for "does this subnet lie inside an allowed
// range". Pure and strict: whatever does not parse is refused by the caller,
// never guessed at (a policy check must not widen on odd spellings).

export interface Network {
  family: 4 | 6;
  /** The address with its host bits kept; containment masks them away. */
  address: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/** Hex groups with at most one `::`; embedded IPv4 (`::ffff:1.2.3.4`) is not accepted. */
function parseIPv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** An address, as a network of one address (prefix 32 or 128). */
export function parseAddress(text: string): Network | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { family: 4, address: v4, prefix: 32 };
  const v6 = text.includes(':') ? parseIPv6(text) : undefined;
  return v6 !== undefined ? { family: 6, address: v6, prefix: 128 } : undefined;
}

/** `10.1.0.0/16`, `fd00::/64`; undefined when it does not parse. */
export function parseCidr(text: string): Network | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!addr || !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > BITS[addr.family]) return undefined;
  return { ...addr, prefix };
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

/** Every address of `inner` lies in `outer` (host bits of either are ignored, as Docker ignores them). */
export function contains(outer: Network, inner: Network): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  const m = mask(outer.family, outer.prefix);
  return (outer.address & m) === (inner.address & m);
}
