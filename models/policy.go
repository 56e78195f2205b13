package models

import (
	"embed"
	"fmt"
)

//go:embed diffusion/policy-*.json
var policyFiles embed.FS

// DiffusionPolicy returns the measured verification policy of the built-in diffusion model
// name, as `genquorum study policy` wrote it (tables/policy-<name>.json): the chosen
// fingerprint scheme(s) with their tolerances, Type I and Type II in parts per million, the
// counts they come from, every candidate measured, and the study's dataset digest.
// models/diffusion/README.md gives the command that measured it.
func DiffusionPolicy(name string) ([]byte, error) {
	b, err := policyFiles.ReadFile("diffusion/policy-" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("models: no measured policy for %q", name)
	}
	return b, nil
}
