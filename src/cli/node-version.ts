/**
 * Stops the CLI on a Node.js older than package.json's `engines` with a message saying how to get
 * the right one, instead of the TypeError that undici 8 throws while loading on Node 20. cli.ts
 * imports this module first: ES modules are evaluated in import order, so it runs before undici
 * is loaded. Outside npm scripts the system `node` may be older than the one `npm ci` installs
 * into node_modules/.bin (the `node` dev dependency), which is why the hint names both ways in.
 */
export const MIN_NODE = '22.19.0';

/** True when `version` ("x.y.z") is older than `min`. */
export function olderThan(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

if (olderThan(process.versions.node, MIN_NODE)) {
  process.stderr.write(
    `switchyard needs Node.js >= ${MIN_NODE}; this is ${process.version} (${process.execPath}).\n` +
      'In a checkout, `npm ci` installs Node 24 into node_modules/.bin: run `npx switchyard ...` or\n' +
      '`node_modules/.bin/node dist/cli.js ...` (npm scripts use it already).\n',
  );
  process.exit(1);
}
