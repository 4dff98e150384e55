/** "10m", "1h", "90s", "2d" → milliseconds; undefined when malformed (`--since`, `?since=`). */
const SINCE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseSince(text: string): number | undefined {
  const m = SINCE.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}
