/**
 * The differential fuzz's generator: a seeded stream of benign and hostile HTTP/1.x requests as
 * raw bytes (so that odd bytes survive: no client library normalises them), grouped in units.
 * A unit is one request, or a rate-limit burst whose requests share one key and must reach both
 * implementations in the same order. Every other request gets fresh rate-limit keys, so that the
 * token buckets of the two implementations see the same history whatever ran before.
 *
 * Pure: the same (seed, count) gives the same bytes on every run.
 */
import { FAMILIES, type Family } from './families.js';
import { Prng } from './prng.js';

/** One request as a family draws it, before the generator adds its own headers and frames it. */
export interface Draft {
  method: string;
  /** The request target, as sent: bytes as Latin-1 characters. */
  target: string;
  /** "HTTP/1.1" by default; "" sends an HTTP/0.9-style line without a version. */
  version?: string;
  /** In order, repeated names as separate lines. No Host is sent unless listed here. */
  headers: [string, string][];
  body?: string;
  /** "length" (default with a body): Content-Length; "chunked": one chunk and the last; "raw": as the headers say. */
  framing?: 'length' | 'chunked' | 'raw';
  /** The draft chose its own rate-limit keys (X-Client, X-Forwarded-For): none are added. */
  ownKeys?: boolean;
  /** Line ending of the head, CRLF by default. */
  eol?: string;
  /** What the request tries, in a few words. */
  note: string;
}

export interface FuzzRequest {
  /** Position in the stream, from 0. */
  n: number;
  /** Sent as X-Fuzz-Id: the recording origins file what they receive under it. */
  id: string;
  /** "fixed" for a request written by hand (fixedUnits). */
  family: Family | 'fixed';
  note: string;
  method: string;
  raw: Buffer;
}

export interface FuzzUnit {
  family: Family | 'fixed';
  requests: FuzzRequest[];
}

/** Header the generator adds to every request, first after the request line. */
export const FUZZ_ID = 'x-fuzz-id';

/** A client address nobody else uses: 198.18.0.0/15 (RFC 2544), then documentation IPv6. */
function freshAddress(n: number): string {
  return n < 0x20000 ? `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}` : `2001:db8::${n.toString(16)}`;
}

/** Serialises a draft, adding the correlation id, the rate-limit keys and Connection: close. */
function frame(draft: Draft, n: number, id: string, prng: Prng): Buffer {
  const eol = draft.eol ?? '\r\n';
  const version = draft.version ?? 'HTTP/1.1';
  const lines = [version === '' ? `${draft.method} ${draft.target}` : `${draft.method} ${draft.target} ${version}`, `X-Fuzz-Id: ${id}`];
  if (!draft.ownKeys) {
    // Rate limits keyed by IP would share the peer's bucket (127.0.0.1) without X-Forwarded-For.
    if (draft.target.includes('rli') || prng.chance(0.7)) lines.push(`X-Forwarded-For: ${freshAddress(n)}`);
    if (prng.chance(0.7)) lines.push(`X-Client: c-${id}`);
  }
  for (const [name, value] of draft.headers) lines.push(`${name}: ${value}`);
  const body = draft.body;
  const framing = draft.framing ?? (body === undefined ? 'raw' : 'length');
  if (framing === 'length') lines.push(`Content-Length: ${Buffer.byteLength(body ?? '', 'latin1')}`);
  if (framing === 'chunked') lines.push('Transfer-Encoding: chunked');
  lines.push('Connection: close');
  let payload = body ?? '';
  if (framing === 'chunked') payload = (payload ? `${Buffer.byteLength(payload, 'latin1').toString(16)}\r\n${payload}\r\n` : '') + '0\r\n\r\n';
  return Buffer.from(lines.join(eol) + eol + eol + payload, 'latin1');
}

function request(draft: Draft, family: FuzzRequest['family'], n: number, seed: number | string, prng: Prng): FuzzRequest {
  const id = `${seed}-${n}`;
  return { n, id, family, note: draft.note, method: draft.method, raw: frame(draft, n, id, prng) };
}

/** Requests written by hand (the differences the fuzz once found), framed as the generator frames its own. */
export function fixedUnits(drafts: readonly Draft[]): FuzzUnit[] {
  const prng = new Prng(0);
  return drafts.map((d, n) => ({ family: 'fixed', requests: [request(d, 'fixed', n, 'fixed', prng)] }));
}

/** `count` requests from `seed`, in units; a burst may end the stream one or two requests short of longer. */
export function generate(seed: number, count: number): FuzzUnit[] {
  const prng = new Prng(seed);
  const units: FuzzUnit[] = [];
  let n = 0;
  while (n < count) {
    const family = prng.weighted(FAMILIES.map((f) => [f.weight, f] as const));
    const drafts = family.draw(prng, { n, freshAddress, remaining: count - n });
    const requests = drafts.map((d, i) => request(d, family.name, n + i, seed, prng));
    n += requests.length;
    units.push({ family: family.name, requests });
  }
  return units;
}
