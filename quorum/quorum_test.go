package quorum

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// bytesOf turns each value into a one-byte fingerprint.
func bytesOf(vs ...byte) [][]byte {
	fps := make([][]byte, len(vs))
	for i, v := range vs {
		fps[i] = []byte{v}
	}
	return fps
}

func TestRule(t *testing.T) {
	tests := []struct {
		r    Rule
		n    int
		need int
	}{
		{Majority, 0, 1}, {Majority, 1, 1}, {Majority, 2, 2}, {Majority, 3, 2}, {Majority, 4, 3},
		{Majority, 5, 3}, {Majority, 6, 4}, {Majority, 7, 4}, {Majority, 1000, 501},
		{SuperMajority, 1, 1}, {SuperMajority, 2, 2}, {SuperMajority, 3, 3}, {SuperMajority, 4, 3},
		{SuperMajority, 5, 4}, {SuperMajority, 6, 5}, {SuperMajority, 7, 5}, {SuperMajority, 9, 7},
		{SuperMajority, 10, 7}, {SuperMajority, 1000, 667},
	}
	for _, tt := range tests {
		if got := tt.r.Need(tt.n); got != tt.need {
			t.Errorf("%v.Need(%d) = %d, want %d", tt.r, tt.n, got, tt.need)
		}
		// Need is the smallest count strictly above the rule's fraction.
		num, den := 1, 2
		if tt.r == SuperMajority {
			num, den = 2, 3
		}
		if need := tt.r.Need(tt.n); need*den <= num*tt.n || (need-1)*den > num*tt.n {
			t.Errorf("%v.Need(%d) = %d is not the smallest count above %d/%d", tt.r, tt.n, need, num, den)
		}
	}
	for _, s := range []string{"majority", "MAJORITY", "supermajority", "super-majority", "Super_Majority"} {
		r, err := ParseRule(s)
		if err != nil || !r.Valid() || !strings.EqualFold(strings.NewReplacer("-", "", "_", "").Replace(s), r.String()) {
			t.Errorf("ParseRule(%q) = %v, %v", s, r, err)
		}
	}
	if _, err := ParseRule("unanimous"); !errors.Is(err, ErrRule) {
		t.Errorf("ParseRule(unanimous) error = %v, want ErrRule", err)
	}
	if got := Rule(9).String(); got != "Rule(9)" {
		t.Errorf("Rule(9).String() = %q", got)
	}
}

func TestNeedPanics(t *testing.T) {
	for _, f := range []func(){func() { Rule(0).Need(3) }, func() { Majority.Need(-1) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b []byte
		want int
	}{
		{nil, nil, 0},
		{[]byte{0}, []byte{0xff}, 8},
		{[]byte{0x0f}, []byte{0x01}, 3},
		{[]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, 0},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0x80, 1}, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0}, 2},
		{bytes.Repeat([]byte{0xff}, 17), make([]byte, 17), 136},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%x, %x) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := slowDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("slowDistance(%x, %x) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Distance of different lengths did not panic")
			}
		}()
		Distance([]byte{1}, []byte{1, 2})
	}()
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		x, y := r.Uint64(), r.Uint64()
		a, b := binary.BigEndian.AppendUint64(nil, x), binary.BigEndian.AppendUint64(nil, y)
		if Distance64(x, y) != Distance(a, b) || Distance(a, b) != slowDistance(a, b) {
			t.Fatalf("Distance64(%x, %x) = %d, Distance = %d, slow = %d", x, y, Distance64(x, y), Distance(a, b), slowDistance(a, b))
		}
	}
}

// slowDistance counts differing bits one at a time: the obvious twin of Distance.
func slowDistance(a, b []byte) int {
	d := 0
	for i := range a {
		for bit := range 8 {
			if (a[i]>>bit)&1 != (b[i]>>bit)&1 {
				d++
			}
		}
	}
	return d
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name      string
		fps       [][]byte
		replicas  int
		tolerance int
		rule      Rule
		want      Verdict
	}{
		{"all equal", bytesOf(0x0f, 0x0f, 0x0f), 3, 0, Majority,
			Verdict{Accepted: true, Value: []byte{0x0f}, Agreeing: []int{0, 1, 2}, Best: 0, Support: 3, Need: 2}},
		{"all different, no verdict, smallest is best", bytesOf(0xff, 0x00, 0x0f), 3, 0, Majority,
			Verdict{Outliers: []int{0, 1, 2}, Best: 1, Support: 1, Need: 2}},
		{"all different but within tolerance", bytesOf(0x00, 0x01, 0x03), 3, 1, Majority,
			Verdict{Accepted: true, Value: []byte{0x01}, Agreeing: []int{0, 1, 2}, Best: 1, Support: 3, Need: 2}},
		{"one outlier", bytesOf(0x10, 0x10, 0x90), 3, 0, Majority,
			Verdict{Accepted: true, Value: []byte{0x10}, Agreeing: []int{0, 1}, Outliers: []int{2}, Best: 0, Support: 2, Need: 2}},
		{"tie broken to the smaller value", bytesOf(0x02, 0x01), 2, 2, Majority,
			Verdict{Accepted: true, Value: []byte{0x01}, Agreeing: []int{0, 1}, Best: 1, Support: 2, Need: 2}},
		// Supports at t=1: 0x00 {0,2,3}, 0x03 {1,2,3}, 0x01 {0,1,2}, 0x02 {0,1,3}: all 3; the
		// smallest value, 0x00, wins and decides who is an outlier.
		{"four-way tie decides the outliers", bytesOf(0x00, 0x03, 0x01, 0x02), 4, 1, Majority,
			Verdict{Accepted: true, Value: []byte{0x00}, Agreeing: []int{0, 2, 3}, Outliers: []int{1}, Best: 0, Support: 3, Need: 3}},
		{"even split, no verdict", bytesOf(0x80, 0x80, 0x01, 0x01), 4, 0, Majority,
			Verdict{Outliers: []int{0, 1, 2, 3}, Best: 2, Support: 2, Need: 3}},
		{"n even, three of four", bytesOf(5, 5, 9, 5), 4, 0, Majority,
			Verdict{Accepted: true, Value: []byte{5}, Agreeing: []int{0, 1, 3}, Outliers: []int{2}, Best: 0, Support: 3, Need: 3}},
		{"n=1 alone", bytesOf(0xab), 1, 0, Majority,
			Verdict{Accepted: true, Value: []byte{0xab}, Agreeing: []int{0}, Best: 0, Support: 1, Need: 1}},
		{"n=1 of 3 replicas", bytesOf(0xab), 3, 0, Majority,
			Verdict{Outliers: []int{0}, Best: 0, Support: 1, Need: 2}},
		{"missing submissions count against: majority", bytesOf(7, 7, 7), 5, 0, Majority,
			Verdict{Accepted: true, Value: []byte{7}, Agreeing: []int{0, 1, 2}, Best: 0, Support: 3, Need: 3}},
		{"missing submissions count against: super-majority", bytesOf(7, 7, 7), 5, 0, SuperMajority,
			Verdict{Outliers: []int{0, 1, 2}, Best: 0, Support: 3, Need: 4}},
		{"super-majority of 3 needs all", bytesOf(1, 1, 2), 3, 0, SuperMajority,
			Verdict{Outliers: []int{0, 1, 2}, Best: 0, Support: 2, Need: 3}},
		{"super-majority of 3 within tolerance", bytesOf(2, 1, 1), 3, 2, SuperMajority,
			Verdict{Accepted: true, Value: []byte{1}, Agreeing: []int{0, 1, 2}, Best: 1, Support: 3, Need: 3}},
		{"super-majority 4 of 7", bytesOf(3, 3, 3, 3, 8, 9, 10), 7, 0, SuperMajority,
			Verdict{Outliers: []int{0, 1, 2, 3, 4, 5, 6}, Best: 0, Support: 4, Need: 5}},
		{"super-majority 5 of 7", bytesOf(3, 3, 3, 3, 8, 3, 10), 7, 0, SuperMajority,
			Verdict{Accepted: true, Value: []byte{3}, Agreeing: []int{0, 1, 2, 3, 5}, Outliers: []int{4, 6}, Best: 0, Support: 5, Need: 5}},
		// Big-endian order: 00ff < 0100, although 0x0100 read little-endian is the smaller.
		{"tie-break is big-endian", [][]byte{{0x01, 0x00}, {0x00, 0xff}}, 2, 16, Majority,
			Verdict{Accepted: true, Value: []byte{0x00, 0xff}, Agreeing: []int{0, 1}, Best: 1, Support: 2, Need: 2}},
		{"nothing submitted", nil, 3, 0, Majority, Verdict{Best: -1, Need: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decide(tt.fps, tt.replicas, tt.tolerance, tt.rule)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if !equalVerdict(got, tt.want) {
				t.Errorf("Decide(%x, %d, %d, %v) = %+v, want %+v", tt.fps, tt.replicas, tt.tolerance, tt.rule, got, tt.want)
			}
			if slow := slowDecide(tt.fps, tt.replicas, tt.tolerance, tt.rule); !equalVerdict(got, slow) {
				t.Errorf("Decide = %+v, slowDecide = %+v", got, slow)
			}
		})
	}
}

func TestDecideErrors(t *testing.T) {
	tests := []struct {
		fps       [][]byte
		replicas  int
		tolerance int
		rule      Rule
		want      error
	}{
		{bytesOf(1), 1, 0, 0, ErrRule},
		{bytesOf(1), 1, 0, 3, ErrRule},
		{bytesOf(1), 1, -1, Majority, ErrTolerance},
		{bytesOf(1), 0, 0, Majority, ErrReplicas},
		{nil, 0, 0, Majority, ErrReplicas},
		{bytesOf(1, 2, 3), 2, 0, Majority, ErrReplicas},
		{[][]byte{{1}, {1, 2}}, 2, 0, Majority, ErrLength},
	}
	for _, tt := range tests {
		_, err := Decide(tt.fps, tt.replicas, tt.tolerance, tt.rule)
		if !errors.Is(err, tt.want) {
			t.Errorf("Decide(%x, %d, %d, %v) error = %v, want %v", tt.fps, tt.replicas, tt.tolerance, tt.rule, err, tt.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "quorum: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

func TestDecideDoesNotAliasInput(t *testing.T) {
	fps := bytesOf(4, 4, 4)
	v, err := Decide(fps, 3, 0, Majority)
	if err != nil {
		t.Fatal(err)
	}
	fps[0][0] = 99
	if v.Value[0] != 4 {
		t.Errorf("Verdict.Value aliases the input: %x", v.Value)
	}
}

func TestDecideAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fps := make([][]byte, 7)
	for i := range fps {
		fps[i] = binary.BigEndian.AppendUint64(nil, r.Uint64())
	}
	fps[3], fps[5] = fps[0], fps[0]
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Decide(fps, 7, 3, Majority); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 { // the index slice and the copy of Value
		t.Errorf("Decide allocates %v times, want <= 2", allocs)
	}
}

// slowDecide is the obvious twin of Decide: list the distinct values in ascending order, count
// each one's support, keep the first with the largest support.
func slowDecide(fps [][]byte, replicas, tolerance int, rule Rule) Verdict {
	v := Verdict{Best: -1, Need: rule.Need(replicas)}
	var values [][]byte
	for _, f := range fps {
		if !slices.ContainsFunc(values, func(x []byte) bool { return bytes.Equal(x, f) }) {
			values = append(values, f)
		}
	}
	slices.SortFunc(values, bytes.Compare)
	var best []byte
	for _, c := range values {
		s := 0
		for _, f := range fps {
			if slowDistance(c, f) <= tolerance {
				s++
			}
		}
		if s > v.Support || best == nil {
			best, v.Support = c, s
		}
	}
	if best != nil {
		v.Best = slices.IndexFunc(fps, func(f []byte) bool { return bytes.Equal(f, best) })
	}
	if best == nil || v.Support < v.Need {
		for i := range fps {
			v.Outliers = append(v.Outliers, i)
		}
		return v
	}
	v.Accepted, v.Value = true, best
	for i, f := range fps {
		if slowDistance(best, f) <= tolerance {
			v.Agreeing = append(v.Agreeing, i)
		} else {
			v.Outliers = append(v.Outliers, i)
		}
	}
	return v
}

func equalVerdict(a, b Verdict) bool {
	return a.Accepted == b.Accepted && bytes.Equal(a.Value, b.Value) && (a.Value == nil) == (b.Value == nil) &&
		slices.Equal(a.Agreeing, b.Agreeing) && slices.Equal(a.Outliers, b.Outliers) &&
		a.Best == b.Best && a.Support == b.Support && a.Need == b.Need
}

// checkVerdict checks the invariants every verdict must satisfy.
func checkVerdict(fps [][]byte, replicas, tolerance int, rule Rule, v Verdict) error {
	if v.Need != rule.Need(replicas) {
		return fmt.Errorf("Need = %d, want %d", v.Need, rule.Need(replicas))
	}
	all := append(slices.Clone(v.Agreeing), v.Outliers...)
	slices.Sort(all)
	for i, x := range all {
		if x != i {
			return fmt.Errorf("agreeing %v and outliers %v are not a partition of 0..%d", v.Agreeing, v.Outliers, len(fps)-1)
		}
	}
	if len(all) != len(fps) || !slices.IsSorted(v.Agreeing) || !slices.IsSorted(v.Outliers) {
		return fmt.Errorf("agreeing %v and outliers %v: not sorted or wrong count", v.Agreeing, v.Outliers)
	}
	if len(fps) == 0 {
		if v.Accepted || v.Best != -1 || v.Support != 0 {
			return fmt.Errorf("verdict %+v on no submissions", v)
		}
		return nil
	}
	if v.Best < 0 || v.Best >= len(fps) {
		return fmt.Errorf("Best = %d out of range", v.Best)
	}
	best := fps[v.Best]
	if slices.IndexFunc(fps, func(f []byte) bool { return bytes.Equal(f, best) }) != v.Best {
		return fmt.Errorf("Best = %d is not the first index of its value", v.Best)
	}
	for _, c := range fps {
		s := 0
		for _, f := range fps {
			if Distance(c, f) <= tolerance {
				s++
			}
		}
		if s > v.Support || (s == v.Support && bytes.Compare(c, best) < 0) {
			return fmt.Errorf("candidate %x has support %d, beats best %x with %d", c, s, best, v.Support)
		}
	}
	if v.Accepted != (v.Support >= v.Need) {
		return fmt.Errorf("Accepted = %v with support %d, need %d", v.Accepted, v.Support, v.Need)
	}
	if !v.Accepted {
		if v.Value != nil || v.Agreeing != nil {
			return fmt.Errorf("no verdict but value %x, agreeing %v", v.Value, v.Agreeing)
		}
		return nil
	}
	if !bytes.Equal(v.Value, best) || len(v.Agreeing) != v.Support {
		return fmt.Errorf("value %x, best %x, %d agreeing, support %d", v.Value, best, len(v.Agreeing), v.Support)
	}
	for _, i := range v.Agreeing {
		if Distance(v.Value, fps[i]) > tolerance {
			return fmt.Errorf("agreeing %d is %d away", i, Distance(v.Value, fps[i]))
		}
	}
	for _, i := range v.Outliers {
		if Distance(v.Value, fps[i]) <= tolerance {
			return fmt.Errorf("outlier %d is %d away", i, Distance(v.Value, fps[i]))
		}
	}
	return nil
}

// fuzzVote turns fuzzer bytes into a vote: fingerprints of 1..9 bytes, at most 64 of them.
func fuzzVote(data []byte, width, extra, tolerance, rule uint8) (fps [][]byte, replicas, tol int, r Rule) {
	w := 1 + int(width)%9
	for len(data) >= w && len(fps) < 64 {
		fps = append(fps, data[:w:w])
		data = data[w:]
	}
	return fps, max(1, len(fps)+int(extra)%4), int(tolerance) % (8*w + 2), Rule(1 + rule%2)
}

func FuzzDecide(f *testing.F) {
	f.Add([]byte{1, 1, 2}, uint8(0), uint8(0), uint8(0), uint8(0))
	f.Add([]byte{0, 3, 1, 2}, uint8(0), uint8(0), uint8(1), uint8(0))
	f.Add([]byte{1, 0, 0, 255, 1, 0}, uint8(1), uint8(2), uint8(3), uint8(1))
	f.Add(bytes.Repeat([]byte{0xa5, 0x5a, 0, 1, 2, 3, 4, 5}, 7), uint8(7), uint8(1), uint8(4), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, width, extra, tolerance, rule uint8) {
		fps, replicas, tol, r := fuzzVote(data, width, extra, tolerance, rule)
		v, err := Decide(fps, replicas, tol, r)
		if err != nil {
			t.Fatalf("Decide(%x, %d, %d, %v): %v", fps, replicas, tol, r, err)
		}
		if err := checkVerdict(fps, replicas, tol, r, v); err != nil {
			t.Fatalf("Decide(%x, %d, %d, %v) = %+v: %v", fps, replicas, tol, r, v, err)
		}
		if slow := slowDecide(fps, replicas, tol, r); !equalVerdict(v, slow) {
			t.Fatalf("Decide(%x, %d, %d, %v) = %+v, slowDecide = %+v", fps, replicas, tol, r, v, slow)
		}
	})
}

// TestDecideRandom runs the fuzz checks on seeded random votes with clustered values, where
// ties and near ties are common.
func TestDecideRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		n := r.IntN(12)
		w := 1 + r.IntN(3)
		base := make([]byte, w)
		for i := range base {
			base[i] = byte(r.IntN(256))
		}
		fps := make([][]byte, n)
		for i := range fps {
			f := bytes.Clone(base)
			for range r.IntN(4) {
				b := r.IntN(8 * w)
				f[b/8] ^= 1 << (b % 8)
			}
			fps[i] = f
		}
		replicas := max(1, n+r.IntN(3))
		tol, rule := r.IntN(4), Rule(1+r.IntN(2))
		v, err := Decide(fps, replicas, tol, rule)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkVerdict(fps, replicas, tol, rule, v); err != nil {
			t.Fatalf("Decide(%x, %d, %d, %v) = %+v: %v", fps, replicas, tol, rule, v, err)
		}
		if slow := slowDecide(fps, replicas, tol, rule); !equalVerdict(v, slow) {
			t.Fatalf("Decide(%x, %d, %d, %v) = %+v, slowDecide = %+v", fps, replicas, tol, rule, v, slow)
		}
	}
}

// TestImports enforces STYLE.md §5: quorum is called by the ledger and must not reach for the
// clock, randomness, files or the network.
func TestImports(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goCmd, "list", "-f", "{{.Imports}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := strings.Fields(strings.Trim(strings.TrimSpace(string(out)), "[]"))
	for _, bad := range []string{"time", "math/rand", "math/rand/v2", "crypto/rand", "os", "net"} {
		if slices.Contains(imports, bad) {
			t.Errorf("quorum imports %s (imports: %v)", bad, imports)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	for _, n := range []int{3, 7, 31} {
		for _, w := range []int{8, 32} {
			r := rand.New(rand.NewPCG(1, 2))
			fps := make([][]byte, n)
			for i := range fps {
				fps[i] = make([]byte, w)
				for j := range fps[i] {
					fps[i][j] = byte(r.Uint32())
				}
			}
			for i := 1; i < n*2/3+1; i++ {
				fps[i] = fps[0]
			}
			b.Run(fmt.Sprintf("n%d/bytes%d", n, w), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Decide(fps, n, 2, SuperMajority); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
