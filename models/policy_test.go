package models

import (
	"encoding/json"
	"testing"
)

// TestDiffusionPolicy: the shipped policy of base is the measured one: pHash/16 within 10
// bits, Type I >= 99 % and Type II <= 0.1 % over enough pairs to resolve it.
func TestDiffusionPolicy(t *testing.T) {
	b, err := DiffusionPolicy("base")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		ModelDigest   string `json:"model_digest"`
		DatasetDigest string `json:"dataset_digest"`
		Chosen        struct {
			Parts []struct {
				Scheme    string `json:"scheme"`
				Tolerance int    `json:"tolerance"`
			} `json:"parts"`
			Type2Pairs int
		} `json:"chosen"`
		TypeIPPM  int64 `json:"type1_ppm"`
		TypeIIPPM int64 `json:"type2_ppm"`
		Upper     int64 `json:"type2_upper95_ppm"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	nm, err := Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	if p.ModelDigest != nm.Digest.String() {
		t.Errorf("policy measured on model %s, base is %s", p.ModelDigest, nm.Digest)
	}
	if len(p.Chosen.Parts) != 1 || p.Chosen.Parts[0].Scheme != "image:phash/16" || p.Chosen.Parts[0].Tolerance != 10 {
		t.Errorf("chosen %+v", p.Chosen.Parts)
	}
	if p.TypeIPPM < 990_000 || p.TypeIIPPM > 1000 || p.Upper > 1000 || p.Chosen.Type2Pairs < 3000 || len(p.DatasetDigest) != 64 {
		t.Errorf("policy %+v does not meet Type I >= 99 %%, Type II <= 0.1 %%", p)
	}
	if _, err := DiffusionPolicy("nope"); err == nil {
		t.Error("no error for an unknown model")
	}
}
