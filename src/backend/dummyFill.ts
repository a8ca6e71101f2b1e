// The seeded dummy-weight fill a backend performs on its device (the generator is described in
// src/model/dummyWeights.ts, which builds these specs).

/** How one tensor's values are drawn: value = float32(offset + float32(scale * s)). */
export interface DummyFillSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly key: number; // uint32
  readonly scale: number; // a float32 value
  readonly offset: number; // a float32 value (0 or 1)
}
