package main

import (
	"fmt"
	"os"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/userfile"
)

// builtinPolicies returns the measured verification policies shipped with the built-in
// diffusion models (models/diffusion/policy-<name>.json: only base has one; the fine-tuned
// and adapter variants were not calibrated), as the ledger registers them for image tasks on
// the measured model (name and digest).
func builtinPolicies() ([]ledger.Policy, error) {
	var out []ledger.Policy
	for _, name := range models.DiffusionNames {
		raw, err := models.DiffusionPolicy(name)
		if err != nil {
			continue // not measured
		}
		p, err := node.ParsePolicy(raw)
		if err != nil {
			return nil, fmt.Errorf("built-in policy of %s: %w", name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// genesisPolicies returns the built-in policies (when builtin is set) and those of the files
// `genquorum study policy` wrote (tables/policy-<model>.json). A file for a model and kind that
// already has a policy replaces it.
func genesisPolicies(builtin bool, files []string) ([]ledger.Policy, error) {
	var out []ledger.Policy
	if builtin {
		var err error
		if out, err = builtinPolicies(); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if err := userfile.Check(f, 1<<20); err != nil {
			return nil, usagef("--policy: %v", err)
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		p, err := node.ParsePolicy(raw)
		if err != nil {
			return nil, usagef("--policy %s: %v", f, err)
		}
		kept := out[:0]
		for _, q := range out {
			if q.Model != p.Model || q.Kind != p.Kind {
				kept = append(kept, q)
			}
		}
		out = append(kept, p)
	}
	return out, nil
}
