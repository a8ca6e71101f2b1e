// The bound for bf16 (CUDA) against fp32 references, shared by the *.cuda.test.ts model tests.
//
// Every activation the CUDA backend stores (hidden states, q/k/v, attention output, MLP
// intermediates, the KV cache) is bf16: rounding to nearest leaves a relative error of at
// most 2^-9 (~0.2%) per stored value, while weights (bf16 in the checkpoints) are exact and
// every reduction accumulates in f32. A logprob is logit_i - logsumexp(logits), so its error
// is the logit error minus its softmax-weighted mean. The tiny reference models have logits
// spanning ~15 nats (top-1 to top-5); each of the ~8 rounded stages of a layer adds an
// independent 2^-9 relative error, and three layers plus embedding and final norm give ~30
// roundings: sqrt(30) * 2^-9 * 15 = 0.16 at worst-case alignment of a 15-nat logit, ~0.03 for
// a typical one. We bound every compared logprob by LOGPROB_BOUND = 0.08 (half the
// worst-case estimate, twice the typical one) and compare token ids only where the
// reference's gap between the competing logprobs exceeds 2 * LOGPROB_BOUND: below that,
// bf16 may legitimately swap them (and a greedy continuation may then diverge, so it is
// compared up to the first such position).
export const LOGPROB_BOUND = 0.08;
export const ID_GAP = 2 * LOGPROB_BOUND;
