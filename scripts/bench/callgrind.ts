/**
 * Reading a callgrind dump for the instruction-count benchmarks (bench-instructions.ts,
 * bench-heads.ts): the total, and the parts that do not come from the code being measured.
 *
 * Those parts, by function name: V8's garbage collector (marking, sweeping, scavenging,
 * evacuation) and its optimizing compilers. Both run when they run, not per request or per call:
 * a major collection that fell in a round added a fifth to its count here, and a late tier-up of
 * some function added as much to another (the compilers run on helper threads, which callgrind
 * counts too). Without them, the program's own instructions were the same in two rounds to
 * within 0.1 % once warm. The split by name is approximate (a write barrier or an allocation
 * counts as the program's); it is the same for everything measured.
 */
import { spawnSync } from 'node:child_process';

const GC =
  /v8::internal::\S*(?:Marking|MarkCompact|MarkSweep|Sweep|Scaveng|Evacuat|RememberedSet|SlotSet|LiveObjectVisitor|RecordMigratedSlot|GCTracer|Heap::|MemoryReducer|ArrayBufferSweeper)|IterateObjectCache/;
const JIT = /v8::internal::(?:compiler|maglev|baseline|turboshaft)::|turboshaft|Zone::|Compiler::|CompilationJob/;

export interface Count {
  total: number;
  /** The collector's instructions. */
  gc: number;
  /** The optimizing compilers'. */
  jit: number;
}

/** The instructions a dump counted, with the collector's and the compilers' apart (callgrind_annotate, self cost per function). */
export function countsOf(file: string): Count {
  const r = spawnSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const total = /^\s*([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS/m.exec(r.stdout);
  if (!total) throw new Error(`callgrind_annotate ${file}: no totals\n${r.stderr}`);
  let gc = 0;
  let jit = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m || m[2]!.startsWith('PROGRAM TOTALS')) continue;
    if (GC.test(m[2]!)) gc += Number(m[1]!.replaceAll(',', ''));
    else if (JIT.test(m[2]!)) jit += Number(m[1]!.replaceAll(',', ''));
  }
  return { total: Number(total[1]!.replaceAll(',', '')), gc, jit };
}
