// Package study runs the paper's experiments and publishes them as a dataset others can
// re-check: one directory per study run, with every artifact, its task and fingerprints, the
// tables, the plots and a self-contained report.
//
// # Experiments
//
//   - RunTable1 (Table 1, "consensus likelihood"): models x numeric profiles x prompts x seeds;
//     the images of one task (model, prompt, seed) under the different profiles form a group,
//     as outputs of one task on different machines do in the paper; per model and hash kind:
//     images, consensus at t = 0, 1, 2, outliers, aDist, ms per hash (package quorum pools the
//     groups). Also the distance of each image to its group's mode, and the drift of each
//     profile against exact. Profiles are simulated hardware (package tensor), and are labelled
//     so everywhere.
//   - RunTable2 (Table 2): GGUF models x profiles x decodings (greedy 30 and 60, beam 5 and 10,
//     seeded sampling, sampling without a shared seed): share of profile pairs whose outputs
//     agree token for token, where they part and the margin there.
//   - RunType2 (Type II): one profile, many seeds: share of pairs of images within distance t,
//     same prompt and all pairs (package collide counts exactly).
//   - RunOdds (Figure 3): P(correct verdict) of n verifiers with p measured by a table1 run in
//     the same directory (package odds).
//   - Consensus: Table 1 on any image files grouped by the caller (genquorum consensus).
//   - ProfileDrift, Samples and ClassifierAgreement: one diffusion model's drift across
//     profiles, its sample grid, and how often a classifier labels its images with the class
//     their prompt asks for (genquorum diffusion drift, grid and eval).
//
// # Directory layout
//
//	manifest.jsonl      one Entry per artifact (append-only; each line written whole, fsynced)
//	artifacts/<sha256>.png|.gqtr   every artifact under its content digest (atomic writes)
//	tables/<name>.tsv|.json|.md    each Table in three formats
//	plots/<name>.svg|.png|.json    each plot (gonum/plot) and its caption
//	runs.jsonl          one RunRecord per run: study, exact command, Go/module/VCS versions
//	report.html         one self-contained file: runs, tables, inline SVG plots
//
// The dataset's digest is the SHA-256 of manifest.jsonl. Check recomputes every artifact
// digest, task digest and fingerprint; Reproduce regenerates a sample of the tasks.
//
// # Adding a study
//
// Every study uses the same runner, so that its results land in the same layout and report
// (the substitution and training studies of the verification and training issues plug in
// here):
//
//	r, err := study.Open("mystudy", study.Options{Dir: dir, Resume: resume, Workers: w, Command: os.Args})
//	...
//	err = r.Do(ctx, "working", len(items), func(ctx context.Context, i int) error {
//		if r.Dataset.Has(key(i)) { return nil }            // --resume: skip done work
//		data, task := ...                                 // run the work item
//		_, err := r.Dataset.Put(study.Entry{Study: "mystudy", Key: key(i), MediaType: ...,
//			Task: study.NewTaskRecord(task, engineName, artifact.Info),
//			Fingerprints: map[string]string{scheme: hex}}, data, ".ext")
//		return err
//	})
//	err = study.WriteTable(r.Dir, &study.Table{Name: "mystudy", Title: ..., Columns: ..., Rows: ...})
//	err = study.SavePlot(r.Dir, study.Figure{Name: "mystudy", Caption: ...}, plot)
//	err = r.Close() // rewrites report.html from everything in the directory
//
// Fingerprints are named by their package fingerprint scheme (fingerprint.ParseScheme), so
// Check can recompute them; a kind of artifact whose scheme fingerprint.Of does not know
// cannot be checked.
//
// # Contracts
//
// A Run's Dataset is safe for concurrent use; Do runs items Options.Workers at once and stops
// at the first error or when ctx ends; what was written by then stays valid (artifacts before
// their manifest line, lines whole), and a later run with Resume continues. Without Resume,
// Open refuses a directory that already holds a dataset. Analysis reads the manifest, so
// tables can be recomputed from a published dataset alone.
package study
