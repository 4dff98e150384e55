/** What a comparison of two responses takes into account; compiled from a route's `shadow.compare` (rules/shadow-policy.ts). */
/** A JSON Pointer pattern; `*` stands for any one key or index. */
export type PointerPattern = readonly string[];

export interface ComparePolicy {
  /** Response headers compared (lowercase). */
  headers: readonly string[];
  ignoreHeaders: ReadonlySet<string>;
  ignoreJson: readonly PointerPattern[];
  unorderedJson: readonly PointerPattern[];
  numericTolerance: number;
}
