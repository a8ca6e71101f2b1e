// The Mistral layout rotates interleaved pairs (2i, 2i+1) of each head; the HF layout (and our
// canonical one) rotates halves (i, i + hd/2). transformers' converter moves q/k projection
// rows so that, per head h of width hd (docs/model.md#rope-permutation):
//   HF_row[h*hd + half*hd/2 + i] = MISTRAL_row[h*hd + 2*i + half]    (half in {0, 1}, i < hd/2)
// Rows are moved whole, so this works on raw bytes of any dtype.

/** Returns a new buffer with the rows of a Mistral-layout wq/wk ([nHeads*hd, cols]) in HF order. */
export function mistralToHfRows(data: Uint8Array, rows: number, nHeads: number): Uint8Array {
  return permuteRows(data, rows, nHeads, false);
}

/** The inverse: HF-layout rows back to the Mistral interleaved order. */
export function hfToMistralRows(data: Uint8Array, rows: number, nHeads: number): Uint8Array {
  return permuteRows(data, rows, nHeads, true);
}

function permuteRows(data: Uint8Array, rows: number, nHeads: number, toMistral: boolean): Uint8Array {
  if (rows % nHeads !== 0) throw new Error(`RoPE row permutation: ${rows} rows do not split into ${nHeads} heads`);
  const hd = rows / nHeads;
  if (hd % 2 !== 0) throw new Error(`RoPE row permutation: head width ${hd} is odd`);
  if (data.byteLength % rows !== 0) throw new Error(`RoPE row permutation: ${data.byteLength} bytes do not split into ${rows} rows`);
  const rowBytes = data.byteLength / rows;
  const out = new Uint8Array(data.byteLength);
  const half = hd / 2;
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let s = 0; s < 2; s++) {
        const hfRow = h * hd + s * half + i;
        const mistralRow = h * hd + 2 * i + s;
        const [src, dst] = toMistral ? [hfRow, mistralRow] : [mistralRow, hfRow];
        out.set(data.subarray(src * rowBytes, (src + 1) * rowBytes), dst * rowBytes);
      }
    }
  }
  return out;
}
