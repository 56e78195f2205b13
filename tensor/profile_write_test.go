package tensor

import (
	"bytes"
	"testing"
)

// TestWriteProfilesJSON pins the JSON line of hopper-bf16 (genquorum profiles --format json).
func TestWriteProfilesJSON(t *testing.T) {
	p, err := ProfileByName("hopper-bf16")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteProfiles(&buf, "json", []Profile{p}); err != nil {
		t.Fatal(err)
	}
	want := `{"name":"hopper-bf16","description":"` + p.Description + `","lanes":0,"chunk":128,"combine":"sequential",` +
		`"fma":true,"input":"bf16","accum":"f32","storage":"bf16"}` + "\n"
	if buf.String() != want {
		t.Errorf("WriteProfiles(json, hopper-bf16) = %q, want %q", buf.String(), want)
	}
}
