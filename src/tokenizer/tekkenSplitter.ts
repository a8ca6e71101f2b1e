// Pre-split of text by the Tekken pattern.
import { compilePreSplit, TEKKEN_PATTERN } from './preSplitPattern.js';

const tekkenRegex = compilePreSplit(TEKKEN_PATTERN);

/** Calls emit(start, end) for each piece of `s`, in order; the pieces tile `s`. */
export function splitTekken(s: string, emit: (start: number, end: number) => void): void {
  const re = tekkenRegex;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) emit(m.index, m.index + m[0].length);
}
