// Package study runs the paper's experiments on any set of outputs and reports them: tables
// (text, TSV, JSON) and, elsewhere in the package as it grows, plots and datasets.
//
// Consensus computes Table 1 ("consensus likelihood"): outputs of one task (same prompt and
// seed, run on different machines) form a group; for each hash kind and size the group's mode
// hash, outliers at tolerances 0, 1 and 2, consensus and aDist are computed (package quorum)
// and pooled over all groups, as the paper pools them. Files that cannot be decoded are
// reported and left out; the rest are still counted.
package study
