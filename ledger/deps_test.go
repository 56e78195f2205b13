package ledger

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: the core reads no clock, randomness, file, network or environment, so it must not
// import the packages that provide them. This checks direct imports of the non-test files
// (go list -f '{{.Imports}}'), since fmt and crypto/ed25519 pull some of them in transitively.
func TestDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goTool, "list", "-f", "{{join .Imports \" \"}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := strings.Fields(string(out))
	if len(imports) == 0 {
		t.Fatal("go list found no imports")
	}
	forbidden := map[string]bool{"time": true, "math/rand": true, "math/rand/v2": true,
		"crypto/rand": true, "os": true, "net": true, "os/exec": true, "syscall": true, "unsafe": true,
		"log": true, "log/slog": true, "reflect": true}
	for _, p := range imports {
		if forbidden[p] || strings.HasPrefix(p, "net/") || strings.HasPrefix(p, "encoding/json") {
			t.Errorf("ledger imports %q", p)
		}
	}
	t.Logf("imports: %v", imports)
}
