package imgdecode

import (
	"os"
	"testing"
)

func TestRandomPillow(t *testing.T) {
	dir := os.Getenv("RANDDIR")
	if dir == "" {
		t.Skip()
	}
	checkPlanes(t, dir, readDecodedTSV(t, dir+"/golden.tsv"))
}
