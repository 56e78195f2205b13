// Package diffusion is genquorum's built-in image engine: a small text-conditioned diffusion
// model in pure Go on package tensor, trained by the project itself on Fashion-MNIST, with
// the structure of Stable Diffusion in miniature, so that image tasks run on any machine and
// the paper's image experiments can be reproduced without downloading weights.
//
// # Model
//
// A Model is a U-Net denoiser (Ho et al., 2020; Rombach et al., 2022) predicting the noise in
// a 1-channel image x_t at timestep t:
//
//   - a text encoder: token embeddings of the prompt's words (Tokenize: <bos>, the words,
//     padding to ContextLen) plus position embeddings, LayerNorm, a residual GELU MLP,
//     LayerNorm. Its embedding table is what textual inversion extends;
//   - a sinusoidal timestep embedding and its MLP;
//   - per resolution level (Config.Channels, finest first): a residual block (GroupNorm,
//     SiLU, 3x3 convolutions, the timestep added per channel) and, from Config.AttnFrom on,
//     a cross-attention block from every pixel to the prompt's tokens; a stride-2 convolution
//     down; a middle residual and attention block; the mirror path up (nearest upsampling and
//     a convolution) with the skips concatenated; GroupNorm, SiLU and a convolution out.
//
// Parameters are named tensors ("down.1.attn.q.w", ...), in one canonical order (Names), and
// files are GGUF (architecture "genquorum-diffusion", F32 tensors, the vocabulary and the
// architecture in metadata); a model's digest is the SHA-256 of its file.
//
// # Noise schedule, training, sampling
//
// The schedule is DDPM's linear beta schedule over Config.Timesteps steps. A Trainer minimises
// DDPM's simplified loss |eps - Eps(x_t, t, prompt)|^2 with AdamW and keeps an exponential
// moving average of the weights (what is shipped); one prompt in ten is replaced by the empty
// prompt so that classifier-free guidance works. Its steps' tapes take their memory from
// tensor arenas, which the trainer takes from a pool the process keeps at its first Step and
// gives back on Close (zeroed when lent again: the bits do not depend on it). Model.Sample
// runs DDIM (eta 0, x_0 clipped), Euler or Euler ancestral (k-diffusion's samplers on the same
// discrete timesteps) with classifier-free guidance: eps = eps(uncond) + scale (eps(cond) -
// eps(uncond)), the two in one batch.
//
// # Determinism
//
// Every operation runs under a tensor.Profile, so the same task and profile give the same
// PNG bytes on any machine and GOMAXPROCS, and other profiles drift honestly in the low bits.
// The random numbers (initial weights, training batches, timesteps, noise, sampling noise)
// come from this package's SplitMix64 and Box-Muller on tensor's own Log and SinCos, not from
// math/rand, so no library upgrade can change them. Training draws step k's randomness from
// the stream (seed, k) and accumulates micro-batch gradients in a fixed order, so a run gives
// the same weights on any number of cores and when resumed from a checkpoint. Element-wise
// arithmetic is written with explicit float32 roundings (float32(a*b) + c) so that no
// compiler can fuse it.
//
// # Data
//
// LoadFashionMNIST reads the gzipped IDX files that the Debian package dataset-fashion-mnist
// (MIT) installs under /usr/share/datasets/fashion-mnist; ParseIDX checks sizes before
// allocating. Images are padded from 28x28 to 32x32 (three levels need a side divisible by 4;
// 32 keeps Fashion-MNIST's pixels unresampled) and mapped to [-1, 1]. The ten class prompts
// are ClassPrompts ("A photo of a t-shirt", ..., "A photo of an ankle boot").
package diffusion
