/**
 * Rules from a file (`rules.file`), and a watcher that applies valid edits without a restart.
 * The directory is watched rather than the file, because editors and `mv` replace the file
 * (a new inode) and a watch on the old one would go silent. A mounted Kubernetes ConfigMap
 * never touches the file's own name: the kubelet swaps the `..data` symlink it points through
 * (https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/atomic_writer.go), so
 * that name triggers a reload too; an unchanged text is a no-op.
 */
import { type FSWatcher, readFileSync, watch } from 'node:fs';
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
  /** A reload asked for (SIGHUP) found the text in use: nothing to apply. */
  unchanged(): void;
}

export class RuleFileWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The text of the rules in use. */
  private appliedText: string | undefined;
  /** The last text refused, so that the watch does not report the same errors on every event. */
  private refusedText: string | undefined;

  /** `appliedText` is the content already applied, so that an unchanged save is a no-op. */
  constructor(
    private readonly file: string,
    private readonly rc: RuleContext,
    private readonly events: RuleFileEvents,
    appliedText?: string,
    private readonly debounceMs = 50,
  ) {
    this.appliedText = appliedText;
  }

  /** Starts watching the file's directory. */
  start(): void {
    const name = basename(this.file);
    this.watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
      if (changed && changed.toString() !== name && changed.toString() !== '..data') return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.read('watch'), this.debounceMs);
    });
    this.watcher.on('error', (err) => this.events.failed(err));
  }

  /**
   * Re-reads the file now (SIGHUP). Every outcome reaches one of the events, since a signal asked
   * for an answer: an unchanged text (`unchanged`), and also a missing file or a text refused
   * before, which the watch reports once only.
   */
  reload(): void {
    this.read('signal');
  }

  private read(reason: 'watch' | 'signal'): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      // Mid-replace (the file is briefly absent) or gone: keep the active rules; the watch sees
      // the next event.
      if (reason === 'signal' || (err as NodeJS.ErrnoException).code !== 'ENOENT') this.events.failed(err as Error);
      return;
    }
    if (text === this.appliedText) {
      if (reason === 'signal') this.events.unchanged();
      return;
    }
    if (reason === 'watch' && text === this.refusedText) return;
    try {
      const rules = parseRuleSet(text, this.file, this.rc);
      this.appliedText = text;
      this.refusedText = undefined;
      this.events.applied(rules);
    } catch (err) {
      this.refusedText = text;
      if (err instanceof ConfigError) this.events.invalid(err);
      else this.events.failed(err as Error);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
