package report

import (
	"sync"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
)

// TestDefaultFontsLoad checks gonum/plot's default font cache, which package plot now fills on
// first use instead of in its init (third_party/plot, README "Fast start"): the first lookups,
// from several goroutines at once, find the Liberation faces the plots are drawn with.
func TestDefaultFontsLoad(t *testing.T) {
	tests := []struct {
		name string
		fnt  font.Font
	}{
		{"default", plot.DefaultFont},
		{"sans bold", font.Font{Typeface: "Liberation", Variant: "Sans", Weight: 700}},
		{"mono", font.Font{Typeface: "Liberation", Variant: "Mono"}},
		{"unknown typeface falls back to the default", font.Font{Typeface: "NoSuchFont", Variant: "Serif"}},
	}
	faces := make([]font.Face, len(tests))
	var wg sync.WaitGroup
	for i, tt := range tests {
		wg.Go(func() { faces[i] = font.DefaultCache.Lookup(tt.fnt, 12) })
	}
	wg.Wait()
	for i, tt := range tests {
		f := faces[i]
		if f.Face == nil || f.Font.Typeface != "Liberation" || f.Font.Size != 12 {
			t.Errorf("%s: Lookup(%v) = typeface %q, size %v, face %v; want a Liberation face of size 12",
				tt.name, tt.fnt, f.Font.Typeface, f.Font.Size, f.Face != nil)
		}
	}
	if !font.DefaultCache.Has(plot.DefaultFont) {
		t.Errorf("Has(%v) = false", plot.DefaultFont)
	}
}
