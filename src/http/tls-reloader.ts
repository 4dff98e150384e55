/**
 * The certificate and key of a TLS listener, read from their PEM files, and read again when the
 * files change (`tls.watch`) or on demand (SIGHUP). A new pair is applied only once it makes a
 * secure context: a half-written, mismatched or unreadable pair is logged and the one in use
 * stays, so a botched rotation never takes the listener down. Connections already open keep
 * the certificate they were made with; new ones get the new one.
 *
 * The directories are watched rather than the files, because rotation replaces files (a new
 * inode: `mv`, certbot, Kubernetes' symlink swap of `..data`) and a watch on the old inode
 * would go silent.
 */

import { X509Certificate } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsFiles } from '../config/listener-config.js';
import type { Logger } from '../log/logger.js';

export type ReloadReason = 'start' | 'watch' | 'signal';

function certificateFacts(pem: string): { serial: string; not_after: string; subject: string } {
  const c = new X509Certificate(pem);
  return { serial: c.serialNumber, not_after: new Date(c.validTo).toISOString(), subject: c.subject.replace(/\n/g, ', ') };
}

export class TlsReloader {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The files' content last read, applied or refused: change detection only. */
  private seen: { cert: string; key: string } | undefined;

  constructor(
    private readonly files: TlsFiles,
    /** Installs a validated pair (server.setSecureContext). */
    private readonly apply: (options: SecureContextOptions) => void,
    private readonly logger: Logger,
    private readonly debounceMs = 100,
  ) {}

  /** The options for the server's first context; throws when the files do not make one. */
  initial(): SecureContextOptions {
    const pair = this.read();
    const options = this.options(pair);
    createSecureContext(options);
    this.seen = pair;
    this.logger.info({ cert: this.files.cert, reason: 'start', ...certificateFacts(pair.cert) }, 'tls certificate loaded');
    return options;
  }

  /** Watches both files' directories when `tls.watch` is on. */
  start(): void {
    if (!this.files.watch) return;
    for (const dir of new Set([dirname(this.files.cert), dirname(this.files.key)])) {
      const w = watch(dir, { persistent: false }, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload('watch'), this.debounceMs);
      });
      w.on('error', (err) => this.logger.error({ err, dir }, 'tls certificate watch failed; SIGHUP still reloads'));
      this.watchers.push(w);
    }
  }

  /**
   * Reads both files and applies them if they changed (a signal applies them in any case).
   * Returns true when a new pair is in use.
   */
  reload(reason: ReloadReason): boolean {
    let pair: { cert: string; key: string };
    try {
      pair = this.read();
    } catch (err) {
      // Mid-rotation a file may be briefly absent: the next change event tries again.
      if (reason === 'signal' || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error({ err, cert: this.files.cert, key: this.files.key, reason }, 'tls certificate reload failed; keeping the previous one');
      }
      return false;
    }
    if (reason !== 'signal' && pair.cert === this.seen?.cert && pair.key === this.seen.key) return false;
    try {
      const options = this.options(pair);
      createSecureContext(options); // throws on a bad PEM or a key that does not match
      this.apply(options);
      this.seen = pair;
      this.logger.info({ cert: this.files.cert, reason, ...certificateFacts(pair.cert) }, 'tls certificate loaded');
      return true;
    } catch (err) {
      // Remembered so that the same bad content is not retried (and logged) on every event.
      this.seen = pair;
      this.logger.error({ err, cert: this.files.cert, key: this.files.key, reason }, 'tls certificate reload failed; keeping the previous one');
      return false;
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private read(): { cert: string; key: string } {
    return { cert: readFileSync(this.files.cert, 'utf8'), key: readFileSync(this.files.key, 'utf8') };
  }

  private options(pair: { cert: string; key: string }): SecureContextOptions {
    return { cert: pair.cert, key: pair.key, minVersion: this.files.minVersion };
  }
}
