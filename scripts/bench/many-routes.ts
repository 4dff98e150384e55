/** A rules file of `n` routes (10,000 in the benchmark), the benchmark's path matching the last one. */
export function manyRoutes(n: number): string {
  const routes = Array.from({ length: n - 1 }, (_, i) => `  - { name: r${i}, match: { path: "/svc${i}/**" }, backend: legacy }`);
  routes.push(`  - { name: items, match: { path: "/api/**" }, backend: legacy }`);
  return `default: legacy\nroutes:\n${routes.join('\n')}\n`;
}

