// Typed access to a JSON config object whose errors name the file and the field path
// (configLoader.ts, quantizationConfig.ts).
import { CheckpointError } from './checkpointError.js';

export type Json = Record<string, unknown>;

/** Typed field access that names the file and the field path in its errors. */
export class Fields {
  constructor(
    private readonly obj: Json,
    private readonly where: string, // "<file>" or "<file> text_config"
  ) {}

  private label(key: string): string {
    return `${this.where}: field ${key}`;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  int(key: string, fallback?: number): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new CheckpointError(`${this.label(key)} is missing`);
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new CheckpointError(`${this.label(key)} must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }

  num(key: string, fallback?: number): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new CheckpointError(`${this.label(key)} is missing`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new CheckpointError(`${this.label(key)} must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new CheckpointError(`${this.label(key)} is missing`);
    }
    if (typeof v !== 'string') throw new CheckpointError(`${this.label(key)} must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  sub(key: string): Fields {
    const v = this.obj[key];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CheckpointError(`${this.label(key)} must be an object`);
    return new Fields(v as Json, `${this.where} ${key}`);
  }

  fail(key: string, why: string): never {
    throw new CheckpointError(`${this.label(key)}: ${why}`);
  }
}
