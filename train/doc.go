// Package train makes fine-tuning verifiable: deterministic training runs of the built-in
// diffusion model (textual inversion, LoRA, full fine-tune) with the paper's randomness
// switches, checkpoint series committed by digest and vector fingerprint, segment
// re-execution, full replay with gossip synchronisation, bisection of a disputed segment to
// one step re-executed by a referee, and the trajectory PCA of the paper's Figure 5.
//
// # Spec and switches
//
// A Spec fixes a run: base model digest, method (ti, lora, full: engine.TrainParams' names),
// dataset digest (a content-addressed Dataset: a folder of PNGs or a Fashion-MNIST class
// subset), steps, batch, micro-batch, learning rate (AdamW, constant), task seed, checkpoint
// interval K, prompt-dropout rate, the declared profile, and the Switches. Each source of
// randomness draws from its own SplitMix64 stream (seed_source, step), so that switching one
// on changes no other source's draws:
//
//   - Flip: horizontal flip of each image with probability 1/2;
//   - Template: each image's prompt template (TemplatesTI, diffusers' textual-inversion list);
//   - Shuffle: the data order, a Fisher-Yates permutation per epoch;
//   - SampleNoise: our model is pixel-space, so there is no VAE whose latent distribution is
//     sampled; what stands for that latent sample is dequantisation noise: x_0 =
//     (pixel + u)/127.5 - 1 with u uniform in (-1/2, 1/2], a sample of the continuous image
//     the 8-bit pixel stands for;
//   - Timestep: the diffusion timestep t of each image;
//   - SchedNoise: the noise scheduler's eps in x_t = sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps;
//   - PromptDrop (a further source): replacing the prompt by the empty one with probability
//     DropPrompt;
//   - the micro-batch size is a further source of different bits that is not random (it fixes
//     the order a batch's gradient is summed in), so it is a Spec field, not a switch.
//
// Off, a source is seeded from the task (Spec.Seed): the run is a pure function of the spec,
// bit-identical on any GOMAXPROCS under one profile and across resumes from any checkpoint.
// On, it is seeded from Options.RunSeed (per run and machine).
//
// # Checkpoints
//
// Every K steps (and at step 0) a run keeps a Checkpoint: the diffusion trainer's state
// (weights, AdamW moments, step, configuration; a GGUF file), its SHA-256, and a fingerprint:
// for textual inversion the learned embedding row itself; for LoRA and full fine-tunes a fixed
// random projection (ProjDim +-1 signs per weight, seeded from the spec's digest) of the
// trainable weights. Fingerprints are compared by Euclidean distance under a tolerance
// calibrated from honest runs across profiles (SegmentDrift).
//
// A Run (NewRun, or ResumeRun from a checkpoint's state) steps on demand. Close gives its
// working memory (the trainer's tensor arenas) back to a pool the process keeps for the next
// run, and the run stays usable; a buffer reused from the pool is zeroed, so it changes no bit.
// Every function of this package that steps a run closes it.
//
// # Verification
//
// VerifySegment re-executes one segment on the verifier's own profile from the committed
// checkpoint k (its bytes checked against the committed digest and fingerprint, its recorded
// step and configuration against the spec) and compares with checkpoint k+1 within tolerance.
// Replay re-runs everything, adopting the trainer's checkpoint every M checkpoints when within
// tolerance (gossip sync). A failed segment goes to Bisect: trainer and challenger exchange
// state digests at midpoints under the declared profile (any node can emulate any profile
// bit for bit, as Verde's RepOps), down to one step that a referee re-executes.
// CatchProbability gives the odds of checking a falsified segment.
//
// # On the ledger
//
// The ledger runs the segment protocol for tasks with ledger.VerifySegments (see the ledger
// package doc, "Training tasks"); this package computes every side's part off-ledger:
// LedgerSubmit and LedgerSeries (the trainer's committed and revealed series: state digests
// and QuantizeFingerprint'ed fingerprints), VerifyLedgerSegment (a verifier's check of one
// picked segment against the revealed series, on its own profile, within a tolerance),
// Replayer (either side's digests at the midpoints the ledger asks), and RefereeStep (the
// referee's re-execution of the one disputed step). SeriesRoot and PickSegments are the
// earlier in-process versions of the commitment and the picks (TestProtocolInProcess).
//
// # On the network
//
// Engine runs training tasks (engine.KindTrain) by full replication: every executor trains the
// whole task, all switches off, and its artifact is what it learned (final fingerprint minus
// the initial one), which the ledger compares as a vector:simhash sketch.
package train
