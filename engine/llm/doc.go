// Package llm is genquorum's built-in text engine: it loads llama-architecture models from
// GGUF files (weights and tokenizer), runs their forward pass on package tensor under a
// numeric Profile, decodes (greedy, beam search, seeded multinomial sampling), and verifies a
// claimed output cheaply by one teacher-forced pass.
//
// # Use
//
//	m, err := llm.Load("model.gguf", "")                   // or llm.Open for an engine.Engine
//	prompt := m.Tok.Encode("Once upon a time", true, true) // as llama-server: BOS, special tokens
//	res, err := m.Generate(ctx, prompt, llm.Params{Decode: "greedy", MaxTokens: 60}, tensor.Exact)
//	v, err := m.VerifyGreedy(ctx, prompt, res.Tokens, otherProfile, llm.DefaultGreedyTol)
//
// A Model is immutable and safe for concurrent use; each Generate, Score or Verify call has its
// own State (key/value cache). Engine wraps one Model as an engine.Engine for the node daemon.
//
// # Forward pass
//
// The llama architecture as llama.cpp (b4748) computes it: token embedding; per layer RMSNorm
// (x / sqrt(mean(x²) + eps) · w), Q, K, V projections, RoPE on adjacent pairs (llama.cpp's
// "normal" mode, θ_i = pos · base^(-2i/d)), causal softmax attention with scale 1/√head_dim and
// grouped-query heads (query head h reads KV head h / (heads/kv_heads)), output projection,
// residual; RMSNorm, SwiGLU feed-forward down(silu(gate(x)) · up(x)), residual; final RMSNorm
// and the output matrix (token_embd when the file has no output.weight). The prompt is
// evaluated in one batched pass, then one token per pass against the key/value cache.
//
// Matrix products follow ggml's CPU backend in how they treat the activations, which is what
// makes the log-probs agree with llama.cpp: for F16 weights the activations are rounded to F16
// before the product; for Q8_0 weights each activation row is quantised to Q8_0 blocks (d =
// max|x|/127 stored as F16, q = round-half-even(x·127/max|x|)), the integer block dot products
// are exact, and the per-block terms d_w·d_x·Σq_w·q_x are summed. F32 weights are used as they
// are; BF16, Q4_0, Q4_K and Q6_K weights are dequantised to float32 at load and computed in
// plain float (no llama.cpp reference checks them). Other tensor types, other architectures,
// partial rotary embeddings and rope scaling are refused with ErrTensorType / ErrArchitecture.
// Memory: F32/F16 (and dequantised) weights are held as float32, about 4 bytes per parameter,
// plus a panel copy for the products below and packed copies made by tensor on first use; Q8_0
// weights keep their int8 quants and scales, about 1.1 bytes per parameter, and where the VNNI
// kernel below runs (or with the noasm tag) a lane-major copy of the quants, 1 byte more.
//
// # Kernels (speed without changing bits)
//
// Under profiles with one sequential partial, no FMA and float32 operands (Exact among the
// presets) the hot paths bypass tensor with kernels that compute each value with exactly the
// operations and order tensor would: F32/F16 products on weights repacked into 64-output panels
// (AVX2, and a four-row AVX-512 kernel for batched passes; VMULPS then VADDPS, two roundings as
// in the Go twin), Q8_0 products as int32 block dot products (AVX2 VPMADDUBSW/VPMADDWD; exact,
// so order-free) combined in float32 in block order, and attention that reads the key/value
// cache in place instead of packing it for every token. Batched passes (prompts, and above all
// Score's teacher-forced pass, whose output product covers every claimed position) have their
// own kernels, and some steps of every pass are vectorised, each with the same bits as before:
//
//   - F16 products twelve rows at a time with one fused multiply-add per product: the product
//     of two F16 values is exact in float32, so the FMA rounds only where the sum does (used
//     only when every weight and activation is finite, where no NaN can arise);
//   - Q8_0 products with AVX-512 VNNI (VPDPBUSD, exact int32 block sums) on the lane-major copy
//     of the quants, each weight vector loaded once for four rows;
//   - attention scores eight queries per vector, weighted sums of values sixteen per vector
//     (used where no operation can meet two NaNs, whose choice of NaN could differ); keys a
//     query may not see are skipped when their values are finite (adding 0·v leaves the sum);
//   - the verifiers' logits in pooled buffers; top-k scans skip 32 logits below the threshold
//     at a time; F16 rounding and Q8_0 quantisation of an activation made once for the
//     products that share it (Q, K, V; gate, up).
//
// Each kernel has a pure-Go twin (the noasm build tag selects it) and a test pinning its bits
// against tensor or the twin (TestMatVecMatchesTensor, TestQ8DotsKernels, TestQ8MatVecKernels,
// TestAttendMatchesTensor, TestMulMatHalf, TestQ8LanesKernels, TestAttendKernelsMatchScalar,
// TestQuantizeQ8, TestTopIDsLongRows); the determinism golden and the llama.cpp conformance
// tests pin the end result. Other
// profiles go through tensor (Q8_0 integer block sums still use the integer kernel, exact under
// any profile). BenchmarkGenerate and BenchmarkVerify report tokens per CPU-second and CPU
// milliseconds per operation.
//
// # Profiles and determinism
//
// Every reduction (matrix products, norms, the attention softmax, the log-sum-exp of
// log-probs, the block sum of Q8_0 products) goes through package tensor under the Profile
// given to Generate / Score, so a profile changes the bits the way different hardware does,
// honestly and reproducibly. The same model, input and profile give identical tokens and
// log-prob bits on any machine and any GOMAXPROCS (tensor splits work only over independent
// outputs; TestEngineContract runs the engine conformance suite at GOMAXPROCS 1 and 4). Exp is
// this package's own float32 expf with explicit roundings (same bits on every architecture,
// pinned by TestExpfBits). Under every preset but ampere-fp16 and turing-fp16acc (whose
// pairwise combine depends on the number of masked keys, see tensor.Tape.Attention) the
// teacher-forced pass of Score gives the same bits as token-by-token generation
// (TestScoreMatchesGeneration). tensor.Exact is the conformance profile.
//
// # Decoding
//
//   - greedy: the largest logit, ties to the lower id.
//   - beam:N (1 <= N <= 64): each alive hypothesis proposes its N best next tokens; the N
//     proposals with the largest score survive, the score being the sum of the tokens'
//     log-probs (float64 sum of float32 log-softmax values) with no length normalisation; ties
//     go to the parent that ranked first, then the better token. A proposal that is an
//     end-of-generation token becomes a finished hypothesis and takes no slot. The search
//     stops after MaxTokens tokens or when the best alive score falls below the best finished
//     one (scores only decrease); the best hypothesis overall is returned. beam:1 is greedy.
//     All outputs the paper compares have fixed length, where normalisation cannot matter.
//   - sample: logits divided by Temperature (float32); the TopK best kept (0 = all; rank =
//     logit descending, ties to the lower id); weights w = expf(l/T - l_max/T); with
//     0 < TopP < 1 the smallest rank prefix whose cumulative weight (sequential float32 in
//     rank order) reaches TopP times the top-k weight is kept. The kept tokens are laid out in
//     increasing id order with cumulative weights acc_i (sequential float32), and one draw
//     u = Rand.Float64() per token (Rand is SplitMix64 seeded with the task's seed;
//     u = (next >> 11)·2^-53) picks the first token with u·acc_last < acc_i. The id-order
//     layout makes each token's interval move only as much as the weights before it drift, so
//     a near-tie that swaps two tokens' ranks under another profile does not swap their
//     intervals (a rank-ordered layout made a third of honest cross-profile samples fail
//     verification). The same seed reproduces the same sample under the same profile. This is
//     not llama.cpp's sampler chain (its tokens depend on std::mt19937 and the C++ library's
//     discrete_distribution; testdata/llamacpp/README.md says another engine is not expected
//     to reproduce them), so sampled.jsonl is used only for its log-probs. Temperature <= 0 is
//     greedy.
//
// Generation stops early at an end-of-generation token unless Params.IgnoreEOG.
// Step.Margin is the top-1 minus top-2 logit (equal to the log-prob margin up to rounding);
// the artifact's Margins carry it so verifiers can tell fragile positions from robust ones.
//
// # Verification
//
// Score evaluates a claimed continuation in one teacher-forced pass (prompt and claim batched),
// giving each claimed token's log-prob, rank and margin to the best alternative. VerifyGreedy
// accepts when every claimed token trails the verifier's argmax by at most a tolerance (in
// log-prob); VerifySample accepts when each claimed token's cumulative-mass interval, rebuilt
// from the verifier's own logits, contains the replayed draw within a tolerance (in mass). A
// Verdict's Need is the smallest tolerance that accepts the claim, so a caller can apply its
// own. The defaults (DefaultGreedyTol 0.5, DefaultSampleTol 0.05) cover the drift between the
// preset profiles measured by TestStudyProfiles (3 models, 3 prompts, every pair of the 7
// presets): the largest change of a margin between two profiles was 0.36 (Q8_0, BF16 storage
// against float32), of a sampled token's interval edge 0.063 of mass. At these defaults every
// honest greedy and sampled output of one profile was accepted under every other profile
// (378 greedy and 756 sampled claims), and no claim with one substituted token at a random
// position was (runner-up or random token; adjacent interval, other nucleus token or wrong
// seed for samples: 0 of 366). A substitution at a position whose margin is below the
// tolerance cannot be caught by any tolerance that accepts honest drift (9.5-13 % of positions
// have a margin below 0.5 on the reference models); under the claim's own profile a verifier
// gets identical bits (Need 0) and can use tolerance 0.
//
// # Conformance
//
// TestConformanceGreedy compares with llama.cpp b4748 on testdata/llamacpp/greedy.jsonl (3
// models × 25 prompts × 60 tokens, LLM_CONFORMANCE=full; a 6-prompt subset by default), with
// the thresholds and tolerances of that README (Q8_0: those for an engine that quantises
// activations like ggml). Full set, teacher-forced, all 1 500 positions per model: argmax
// differs from llama.cpp at 0 positions for f32 and Q8_0 and at 1 for GQA-f16 (reference
// margin 0.0015, below τ 0.05); largest |Δ log-prob| over the top-5 7.2e-5 (f32), 8.9e-3
// (f16), 0.215 (Q8_0, a quantisation rounding-boundary case); free-running, 25/25 sequences
// identical for f32 and Q8_0 and 24/25 for f16 (one diverges at a reference margin of 0.0015).
package llm
