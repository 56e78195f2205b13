// Package tokenizer converts between text and token ids exactly as llama.cpp (build b4748)
// does, for the tokenizers stored in a GGUF file's tokenizer.ggml.* metadata:
//
//   - SPM (tokenizer.ggml.model "llama"): SentencePiece-style merging of adjacent symbols by
//     token score, with a space prefix (add_space_prefix), spaces escaped as ▁, and byte
//     fallback to <0xXX> tokens (llm_tokenizer_spm).
//   - BPE (tokenizer.ggml.model "gpt2"): byte-level BPE over ranked merges
//     (llm_tokenizer_bpe), with the pre-tokenizers "gpt-2" and "deepseek-coder". The Llama 3
//     pre-tokenizer ("llama3", "llama-bpe", ...) is ported as well, but no reference data checks
//     it; other pre-tokenizers are refused with [ErrUnsupported].
//
// Both split the input at special tokens first (tokenizer_st_partition): user-defined tokens
// always, control and unknown tokens only when parseSpecial is set, the longest token text
// first. Encode adds BOS/EOS when asked and the vocabulary wants them (tokenizer.ggml.add_bos_token,
// add_eos_token, or llama.cpp's default for the model: true for SPM, false for BPE).
//
// Decoding has three levels, matching llama.cpp's API: [Tokenizer.TokenToPiece] is
// llama_token_to_piece (lstrip 0), [Tokenizer.Pieces] concatenates pieces (how llama-server
// builds completion text), and [Tokenizer.Decode] is llama_detokenize with its SPM leading-space
// removal and, for vocabularies that ask for it (gpt-2), clean_spaces.
//
// # Conformance
//
// The tests compare with llama.cpp's own output in testdata/llamacpp: every row of tokens.tsv
// (2 328 strings × flags) and detok.tsv (5 016 id sequences) must match exactly, for the
// llama-spm, gpt-2 and deepseek-coder vocabularies.
//
// # Unicode
//
// The BPE pre-tokenizers classify code points (letter, number, punctuation, whitespace) as
// llama.cpp's unicode tables do: one general category per code point (unassigned ones count
// as control), and the White_Space property for whitespace. This package takes the categories
// from Go's unicode package (Unicode 15.0.0); llama.cpp's tables were generated with Python's
// regex module, possibly for a slightly newer Unicode version, so code points assigned after
// 15.0 may be classified differently (none occurs in the reference data). Invalid UTF-8 is
// read as U+FFFD per bad byte by the BPE pre-tokenizers, as llama.cpp does since it stopped
// throwing on such input; SPM works on bytes and keeps them through byte fallback.
//
// # Deviations
//
// Where llama.cpp aborts or throws (a byte with no byte token, an unknown id), this package
// uses the unknown token (or drops the byte if there is none) or returns an [*IDError]. Token ids are int32 as in llama.cpp.
// llama.cpp forces some tokens to control type by their text (end-of-turn, fill-in-the-middle
// and end-of-generation names such as <｜fim▁hole｜>); for the end-of-turn and FIM names it
// does so only for the first match it finds in hash-map order, this package for every listed
// name present, which differs only for vocabularies holding several names of one kind.
// Special tokens of equal text length are tried in id order (llama.cpp's std::sort leaves
// that order unspecified); it matters only when such tokens overlap in the input.
//
// A Tokenizer is immutable after [FromGGUF] and safe for concurrent use.
package tokenizer
