// Package engine defines what a generative engine is to genquorum: the Engine interface, the
// Task it runs, the Artifact it returns, and a Registry that finds the engine for a task.
//
// A Task is everything that decides an output: the kind of work, the model (by name and content
// digest, so two nodes provably run the same weights), the prompt, the seed, the kind-specific
// parameters, and the numeric profile (see package tensor) that imitates one kind of hardware.
// Two honest engines given the same Task and profile must return byte-identical artifacts;
// given different profiles they may drift, and that drift is what fingerprints tolerate.
//
// Task.Digest is a SHA-256 over a canonical binary encoding of the task (fixed field order,
// length-prefixed strings, integers big-endian, floats as their IEEE-754 bits), so every node
// derives the same task identity without trusting JSON formatting or map order.
//
// This package depends on no concrete engine; built-in engines (engine/llm, engine/diffusion)
// and remote adapters (engine/remote) implement Engine and are registered by the binary.
package engine
