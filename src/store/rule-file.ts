/**
 * Rules from a file (`rules.file`), and a watcher that applies valid edits without a restart.
 * The directory is watched rather than the file, because editors and `mv` replace the file
 * (a new inode) and a watch on the old one would go silent. A mounted Kubernetes ConfigMap
 * never touches the file's own name: the kubelet swaps the `..data` symlink it points through
 * (https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/atomic_writer.go), so
 * that name triggers a reload too; an unchanged text is a no-op.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError } from '../config/yaml-source.js';
import { parseRuleSet, type RuleContext, type RuleSet } from '../rules/rule-set.js';

export function readRuleFile(file: string, rc: RuleContext): RuleSet {
  return parseRuleSet(readFileSync(file, 'utf8'), file, rc);
}

export interface RuleFileEvents {
  applied(rules: RuleSet): void;
  invalid(error: ConfigError): void;
  failed(error: Error): void;
}

export class RuleFileWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastText: string | undefined;

  constructor(
    private readonly file: string,
    private readonly rc: RuleContext,
    private readonly events: RuleFileEvents,
    private readonly debounceMs = 50,
  ) {}

  /** Starts watching; `initialText` is the content already applied, so an unchanged save is a no-op. */
  start(initialText?: string): void {
    this.lastText = initialText;
    const name = basename(this.file);
    this.watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
      if (changed && changed.toString() !== name && changed.toString() !== '..data') return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), this.debounceMs);
    });
    this.watcher.on('error', (err) => this.events.failed(err));
  }

  /** Re-reads the file now (SIGHUP); an unchanged text is a no-op, an invalid one is reported. */
  reload(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      // Mid-replace (the file is briefly absent) or gone: keep the active rules.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.events.failed(err as Error);
      return;
    }
    if (text === this.lastText) return;
    try {
      const rules = parseRuleSet(text, this.file, this.rc);
      this.lastText = text;
      this.events.applied(rules);
    } catch (err) {
      this.lastText = text;
      if (err instanceof ConfigError) this.events.invalid(err);
      else this.events.failed(err as Error);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
