// Small immutable value types for IP addresses, prefixes and MAC addresses (Go's net/netip is the
// model). ipaddr.js does the validation of textual forms; the values themselves are kept as numbers
// (IPv4) and bigints (IPv6) so that masking and containment are cheap in the forwarding engine.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = <T = never>(error: string): Result<T> => ({ ok: false, error });

const V4_MAX = 0xffffffff;
const V6_ALL = (1n << 128n) - 1n;

/** The text of IPv4 addresses already printed (bounded: cleared when full), and of IPv6 Addr objects. */
const TEXT_CACHE_MAX = 1 << 16;
const V4_TEXT = new Map<number, string>();
const V6_TEXT = new WeakMap<Addr, string>();

const V4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

export class Addr {
  private constructor(
    readonly family: Family,
    /** IPv4 only: the address as an unsigned 32-bit number. */
    readonly v4: number,
    /** IPv6 only: the address as a 128-bit bigint. */
    readonly v6: bigint,
    /** IPv6 zone (`fe80::1%eth0`), kept as printed. */
    readonly zone: string | undefined,
  ) {}

  static parse(text: string): Result<Addr> {
    const s = text.trim();
    if (s.includes(':')) {
      const pct = s.indexOf('%');
      const body = pct >= 0 ? s.slice(0, pct) : s;
      const zone = pct >= 0 ? s.slice(pct + 1) : undefined;
      if (zone === '' || !ipaddr.IPv6.isValid(body)) return err(`"${text}" is not an IPv6 address`);
      let n = 0n;
      for (const part of ipaddr.IPv6.parse(body).parts) n = (n << 16n) | BigInt(part);
      return ok(new Addr(6, 0, n, zone));
    }
    // Four decimal octets without leading zeros (ipaddr.js's isValidFourPartDecimal), read by hand:
    // names such as `default/web-0` are asked here on every trace, and ipaddr.js rejects them by throwing.
    const m = V4.exec(s);
    const o = m ? [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] : undefined;
    if (!o || o.some((x) => x > 255)) return err(`"${text}" is not an IPv4 address (expected four decimal octets)`);
    return ok(Addr.fromV4(((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0));
  }

  /** Parses or throws: for literals in code and tests, never for input. */
  static must(text: string): Addr {
    const r = Addr.parse(text);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  }

  static fromV4(n: number): Addr {
    return new Addr(4, n >>> 0, 0n, undefined);
  }

  static fromV6(n: bigint): Addr {
    return new Addr(6, 0, BigInt.asUintN(128, n), undefined);
  }

  get bits(): 32 | 128 {
    return this.family === 4 ? 32 : 128;
  }

  /** The address as a bigint, for either family. */
  toBigInt(): bigint {
    return this.family === 4 ? BigInt(this.v4) : this.v6;
  }

  equals(o: Addr): boolean {
    return this.family === o.family && this.v4 === o.v4 && this.v6 === o.v6;
  }

  compare(o: Addr): number {
    if (this.family !== o.family) return this.family - o.family;
    if (this.family === 4) return this.v4 - o.v4;
    return this.v6 < o.v6 ? -1 : this.v6 > o.v6 ? 1 : 0;
  }

  isUnspecified(): boolean {
    return this.family === 4 ? this.v4 === 0 : this.v6 === 0n;
  }

  isLoopback(): boolean {
    return this.family === 4 ? this.v4 >>> 24 === 127 : this.v6 === 1n;
  }

  isMulticast(): boolean {
    return this.family === 4 ? this.v4 >>> 28 === 0xe : this.v6 >> 120n === 0xffn;
  }

  isLinkLocal(): boolean {
    return this.family === 4 ? this.v4 >>> 16 === 0xa9fe : this.v6 >> 118n === 0x3fan;
  }

  toString(): string {
    // Addresses are map keys everywhere a trace looks something up: their text is made once.
    if (this.family === 4) {
      const n = this.v4;
      let t = V4_TEXT.get(n);
      if (t === undefined) {
        if (V4_TEXT.size >= TEXT_CACHE_MAX) V4_TEXT.clear();
        t = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
        V4_TEXT.set(n, t);
      }
      return t;
    }
    let text = V6_TEXT.get(this);
    if (text === undefined) {
      const parts: number[] = [];
      for (let i = 7; i >= 0; i--) parts.push(Number((this.v6 >> BigInt(i * 16)) & 0xffffn));
      text = ipaddr.IPv6.parse(parts.map((p) => p.toString(16)).join(':')).toString();
      if (this.zone !== undefined) text = `${text}%${this.zone}`;
      V6_TEXT.set(this, text);
    }
    return text;
  }

  toJSON(): string {
    return this.toString();
  }
}

export class Prefix {
  private constructor(
    readonly addr: Addr,
    readonly length: number,
  ) {}

  /**
   * Parses `a.b.c.d/len` or `x::y/len`. A bare address is a host prefix (/32 or /128), as the
   * kernel prints host routes. Host bits are kept: call `masked()` for the network.
   */
  static parse(text: string): Result<Prefix> {
    const s = text.trim();
    const slash = s.indexOf('/');
    const a = Addr.parse(slash >= 0 ? s.slice(0, slash) : s);
    if (!a.ok) return a;
    const max = a.value.bits;
    if (slash < 0) return ok(new Prefix(a.value, max));
    const lenText = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return err(`"${text}" has an invalid prefix length (0..${max} expected)`);
    return ok(new Prefix(a.value, Number(lenText)));
  }

  static must(text: string): Prefix {
    const r = Prefix.parse(text);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  }

  static of(addr: Addr, length: number): Prefix {
    if (!Number.isInteger(length) || length < 0 || length > addr.bits) throw new RangeError(`prefix length ${length} out of range for IPv${addr.family}`);
    return new Prefix(addr, length);
  }

  /** The default route's prefix for a family. */
  static any(family: Family): Prefix {
    return new Prefix(family === 4 ? Addr.fromV4(0) : Addr.fromV6(0n), 0);
  }

  get family(): Family {
    return this.addr.family;
  }

  masked(): Prefix {
    return this.isMasked() ? this : new Prefix(maskAddr(this.addr, this.length), this.length);
  }

  isMasked(): boolean {
    return maskAddr(this.addr, this.length).equals(this.addr);
  }

  contains(a: Addr): boolean {
    if (a.family !== this.addr.family) return false;
    return maskAddr(a, this.length).equals(maskAddr(this.addr, this.length));
  }

  /** True when every address of `p` is inside this prefix. */
  covers(p: Prefix): boolean {
    return p.family === this.family && p.length >= this.length && this.contains(p.addr);
  }

  overlaps(p: Prefix): boolean {
    return this.covers(p) || p.covers(this);
  }

  equals(p: Prefix): boolean {
    return this.length === p.length && this.addr.equals(p.addr);
  }

  toString(): string {
    return `${this.addr.toString()}/${this.length}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export function maskAddr(a: Addr, length: number): Addr {
  if (a.family === 4) {
    if (length <= 0) return Addr.fromV4(0);
    if (length >= 32) return a;
    return Addr.fromV4((a.v4 & ((V4_MAX << (32 - length)) >>> 0)) >>> 0);
  }
  if (length <= 0) return Addr.fromV6(0n);
  if (length >= 128) return a;
  return Addr.fromV6(a.v6 & (V6_ALL ^ ((1n << BigInt(128 - length)) - 1n)));
}

/** The prefix length of an IPv4 netmask (255.255.255.0 -> 24), or undefined when it is not contiguous. */
export function maskLength(mask: Addr): number | undefined {
  if (mask.family !== 4) return undefined;
  const inverted = ~mask.v4 >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  let len = 0;
  for (let bit = 31; bit >= 0 && (mask.v4 >>> bit) & 1; bit--) len++;
  return len;
}

/** Six two-digit hex octets, `:` or `-` between them. */
const MAC17 = /^[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5}$/;

export class Mac {
  /** The text, made once: a MAC is compared and looked up by it (an FDB key, a segment's NIC) many times. */
  #text: string | undefined;

  private constructor(readonly octets: readonly number[]) {}

  /** Parses `0a:58:0a:f4:01:0a` (also with `-` separators), any case. */
  static parse(text: string): Result<Mac> {
    const parts = text.trim().split(/[:-]/);
    if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return err(`"${text}" is not a MAC address (six hex octets expected)`);
    return ok(new Mac(parts.map((p) => parseInt(p, 16))));
  }

  /**
   * Mac.parse(text).toString() without building a Mac (undefined where parse fails): indexes read
   * thousands of MACs out of `ip link` text.
   */
  static text(text: string): string | undefined {
    if (MAC17.test(text)) return (text.includes('-') ? text.replaceAll('-', ':') : text).toLowerCase();
    const m = Mac.parse(text);
    return m.ok ? m.value.toString() : undefined;
  }

  static must(text: string): Mac {
    const r = Mac.parse(text);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  }

  isZero(): boolean {
    return this.octets.every((o) => o === 0);
  }

  isBroadcast(): boolean {
    return this.octets.every((o) => o === 0xff);
  }

  isMulticast(): boolean {
    return (this.octets[0]! & 1) === 1;
  }

  equals(o: Mac): boolean {
    return this.octets.every((v, i) => v === o.octets[i]);
  }

  toString(): string {
    return (this.#text ??= this.octets.map((o) => o.toString(16).padStart(2, '0')).join(':'));
  }

  toJSON(): string {
    return this.toString();
  }
}
