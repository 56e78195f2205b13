package main

import (
	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/study"
)

func newStudyPolicyCommand(g *globalOptions) *cobra.Command {
	var o imageStudyFlags
	var type2Seeds string
	cfg := study.PolicyConfig{TargetTypeI: 0.99, MaxTypeII: 0.001}
	cmd := &cobra.Command{
		Use:   "policy --out DIR [flags]",
		Short: "Calibrate the image verification policy: Type I across profiles and Type II of every candidate hash and combination",
		Long: `policy runs every task (model x prompt x seed) under every --profile and the extra --type2-seed
tasks under the first profile, fingerprints each image with every candidate hash (default aHash,
pHash, dHash at sizes 8 and 16), and measures per candidate (each hash alone, and each pair of
different kinds, both within their tolerances): Type I, the share of honest pairs (one task, two
profiles) accepted, and Type II, the share of pairs of different tasks (another seed or prompt) on
one profile accepted, all pairs and same-prompt pairs. It chooses the policy by the rule written
into tables/policy.md and writes tables/policy-<model>.json (chosen scheme, tolerances, Type I and
Type II in parts per million, dataset digest) for registration on the ledger.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ic, err := o.config(cmd.Context())
			if err != nil {
				return err
			}
			cfg.Image = ic
			if type2Seeds != "" {
				if cfg.Type2Seeds, err = study.ParseSeeds(type2Seeds); err != nil {
					return usagef("--type2-seed: %v", err)
				}
			}
			r, err := o.openImage(g, "policy")
			if err != nil {
				return err
			}
			return finish(g, r, study.RunPolicy(cmd.Context(), r, cfg), "policy")
		},
	}
	o.register(cmd, "1-10", study.PolicyProfiles)
	f := cmd.Flags()
	o.models = []string{"base"}
	f.Lookup("model").DefValue = "[base]"
	o.kinds = []string{"average_hash", "phash", "dhash"}
	f.Lookup("kind").DefValue = "[average_hash,phash,dhash]"
	o.sizes = []int{8, 16}
	f.Lookup("size").DefValue = "[8,16]"
	f.StringVar(&type2Seeds, "type2-seed", "1-50", "seeds of extra tasks run under the first profile only (Type II pairs); \"\" for none")
	f.Float64Var(&cfg.TargetTypeI, "type1", cfg.TargetTypeI, "least share of honest pairs the policy must accept")
	f.Float64Var(&cfg.MaxTypeII, "type2", cfg.MaxTypeII, "largest share of different-task pairs the policy may accept")
	return cmd
}
