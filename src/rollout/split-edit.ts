/**
 * Changes one route's split in the YAML text of a rule set, touching only the two numbers, so
 * that comments and formatting survive and `switchyard rules diff` shows the move and nothing else.
 */
import { isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';

function valueNode(map: unknown, key: string): Node | undefined {
  if (!isMap(map)) return undefined;
  return (map as YAMLMap).get(key, true) as Node | undefined;
}

export function formatPercent(p: number): string {
  return String(Math.round(p * 100) / 100);
}

/**
 * Returns `text` with the route's split set to `percent` for `to` and the rest for `from`.
 * Throws when the route or either weight is not found (the rules changed shape underneath).
 */
export function setShare(text: string, route: string, to: string, from: string, percent: number): string {
  const doc = parseDocument(text);
  const routes = valueNode(doc.contents, 'routes');
  if (!isSeq(routes)) throw new Error('the rules have no routes');
  const item = routes.items.find((r) => {
    const name = valueNode(r, 'name');
    return isScalar(name) && name.value === route;
  });
  const split = valueNode(item, 'split');
  const edits: { range: [number, number]; text: string }[] = [];
  for (const [backend, value] of [
    [to, percent],
    [from, 100 - percent],
  ] as const) {
    const node = valueNode(split, backend);
    if (!isScalar(node) || !node.range) throw new Error(`route ${route}: no split weight for ${backend}`);
    edits.push({ range: [node.range[0], node.range[1]], text: formatPercent(value) });
  }
  edits.sort((a, b) => b.range[0] - a.range[0]);
  let out = text;
  for (const e of edits) out = out.slice(0, e.range[0]) + e.text + out.slice(e.range[1]);
  return out;
}
