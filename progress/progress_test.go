package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestSilentOffTerminal: bars on a buffer or a regular file write nothing; Always does.
func TestSilentOffTerminal(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for _, w := range []interface{ Write([]byte) (int, error) }{&buf, f} {
		if IsTerminal(w) {
			t.Fatalf("%T is a terminal", w)
		}
		bar := New(w, 3, "x")
		bar.Add(3)
		s := NewSteps(w, 2, 5)
		s.Set(5)
		s.Finish()
		if Callback(w, 3, "x") != nil || Factory(w) != nil {
			t.Error("Callback or Factory off a terminal is not nil")
		}
	}
	if st, _ := f.Stat(); buf.Len() != 0 || st.Size() != 0 {
		t.Errorf("bars wrote %d bytes to a buffer, %d to a file", buf.Len(), st.Size())
	}
	bar := Always(&buf, 2, "hashing")
	bar.Add(2)
	if !strings.Contains(buf.String(), "hashing") || !strings.Contains(buf.String(), "2/2") {
		t.Errorf("Always wrote %q", buf.String())
	}
}
