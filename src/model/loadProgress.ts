// What a weight loader reports while it runs (LLM.create's `onProgress`, the CLI's progress
// bar): plain numbers, so the event can cross a worker thread as it is.

/** One weight-loading progress event: phase, bytes and tensors done of total. */
export interface LoadProgress {
  /** 'start' once before the first byte, 'progress' as tensors land, 'done' once at the end. */
  readonly phase: 'start' | 'progress' | 'done';
  /** Weight bytes read from the files (or generated, for dummy weights) and placed so far. */
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Checkpoint tensors completely placed so far, out of all of them. */
  readonly tensorsDone: number;
  readonly tensorsTotal: number;
  /** Seconds since 'start'. */
  readonly elapsedSeconds: number;
}

/** Receives load progress events. */
export type LoadProgressListener = (p: LoadProgress) => void;
