/**
 * Header maps handed to modules. Names are lowercase. A map is writable only while the engine
 * runs the phase that may change it; a write at any other time throws PhaseViolation.
 */
import { ERRORS } from '../errors.js';

export class PhaseViolation extends Error {
  readonly code = ERRORS.PIPELINE_PHASE.code;
}

export interface ReadonlyHeaders {
  get(name: string): string | undefined;
}

export class HeaderMap implements ReadonlyHeaders {
  /** Set by the engine around the one phase that may write. */
  writable = false;

  constructor(
    private readonly values: Record<string, string | string[] | number | undefined>,
    private readonly label: string,
  ) {}

  get(name: string): string | undefined {
    const v = this.values[name];
    return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : String(v);
  }

  private check(): void {
    if (!this.writable) throw new PhaseViolation(`${this.label} may not be changed in this phase`);
  }

  set(name: string, value: string): void {
    this.check();
    this.values[name] = value;
  }

  /** Appends a value after any existing one (sent as separate header lines). */
  add(name: string, value: string): void {
    this.check();
    const cur = this.values[name];
    if (cur === undefined) this.values[name] = value;
    else this.values[name] = Array.isArray(cur) ? [...cur, value] : [String(cur), value];
  }

  remove(name: string): void {
    this.check();
    delete this.values[name];
  }

  /** The underlying object (for the engine, which hands it to the forwarder). */
  raw(): Record<string, string | string[] | number | undefined> {
    return this.values;
  }
}
