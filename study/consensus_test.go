package study

import (
	"testing"

	"github.com/genquorum/genquorum/imghash"
)

func TestConsensus(t *testing.T) {
	img := "../testdata/imagehash/images/"
	specs := []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.DHash, Size: 16}}
	groups := []Group{
		{Name: "same", Files: []string{img + "p02_camera.png", img + "p02_camera.png"}},
		{Name: "one", Files: []string{img + "p03_chelsea.png"}},
		{Name: "bad", Files: []string{img + "p03_chelsea.png", "no-such-file.png"}},
	}
	rows, failed, err := Consensus(t.Context(), groups, specs, ConsensusOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].File != "no-such-file.png" {
		t.Errorf("failed = %v, want the missing file only", failed)
	}
	for _, r := range rows {
		// Identical files agree with their mode, so every tolerance has full consensus.
		if r.Images != 4 || r.Groups != 3 {
			t.Errorf("%v: %d images in %d groups, want 4 in 3", r.Spec, r.Images, r.Groups)
		}
		for i, c := range r.Consensus {
			if c != 100 || r.Outliers[i] != 0 {
				t.Errorf("%v: consensus %v with %d outliers at t=%d, want 100%% and 0", r.Spec, c, r.Outliers[i], Tolerances[i])
			}
		}
		if r.ADist != 0 || r.MsPerHash <= 0 {
			t.Errorf("%v: adist %v, ms per hash %v", r.Spec, r.ADist, r.MsPerHash)
		}
	}
	if _, _, err := Consensus(t.Context(), []Group{{Name: "empty"}}, specs, ConsensusOptions{}); err == nil {
		t.Error("an empty group gave no error")
	}
}
