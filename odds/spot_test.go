package odds

import (
	"errors"
	"math"
	"testing"
)

func TestSpot(t *testing.T) {
	s := Spot{Q: 0.1, Collision: 0.2, Fee: 100, Cost: 60, Penalty: 1000}
	c, err := s.Catch()
	if err != nil || math.Abs(c-0.08) > 1e-15 {
		t.Errorf("Catch = %v, %v; want 0.08", c, err)
	}
	for _, tt := range []struct {
		k    int
		want float64
	}{{0, 0}, {1, 0.08}, {2, 1 - 0.92*0.92}, {50, 1 - math.Pow(0.92, 50)}} {
		if got, err := s.CatchWithin(tt.k); err != nil || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("CatchWithin(%d) = %v, %v; want %v", tt.k, got, err, tt.want)
		}
	}
	honest, cheat, err := s.Expected()
	if err != nil || honest != 40 || math.Abs(cheat-(0.92*100-0.08*1000)) > 1e-12 {
		t.Errorf("Expected = %v, %v, %v; want 40, 12", honest, cheat, err)
	}
	// At MinQ the cheater's expectation equals the honest one.
	q, err := s.MinQ()
	if err != nil || math.Abs(q-60/(0.8*1100)) > 1e-15 {
		t.Fatalf("MinQ = %v, %v", q, err)
	}
	s.Q = q
	if h, c, _ := s.Expected(); math.Abs(h-c) > 1e-9 {
		t.Errorf("at MinQ: honest %v, cheat %v", h, c)
	}
	if _, err := (Spot{Collision: 1, Fee: 1, Cost: 1, Penalty: 1}).MinQ(); !errors.Is(err, ErrUnreachable) {
		t.Errorf("MinQ with collision 1: %v, want ErrUnreachable", err)
	}
	if _, err := (Spot{Q: 1.5}).Catch(); !errors.Is(err, ErrArgument) {
		t.Errorf("q 1.5: %v, want ErrArgument", err)
	}
}

// TestSpotVerifiersShare: with the ledger's verifiers, a checked task's fee is shared among
// the executor and its Verifiers: the honest executor earns (1-q) F + q F/(1+V) - cost, the
// free cheat (1-q) F + q collision F/(1+V) - c P, and they meet at MinQ = cost / ((1 -
// collision)(F/(1+V) + P)).
func TestSpotVerifiersShare(t *testing.T) {
	s := Spot{Q: 0.1, Collision: 0.2, Fee: 90, Cost: 20, Penalty: 1000, Verifiers: 2}
	honest, cheat, err := s.Expected()
	if err != nil || math.Abs(honest-(0.9*90+0.1*30-20)) > 1e-12 || math.Abs(cheat-(0.9*90+0.1*0.2*30-0.08*1000)) > 1e-12 {
		t.Errorf("Expected = %v, %v, %v; want 64, 1.6", honest, cheat, err)
	}
	q, err := s.MinQ()
	if err != nil || math.Abs(q-20/(0.8*1030)) > 1e-15 {
		t.Fatalf("MinQ = %v, %v", q, err)
	}
	s.Q = q
	if h, c, _ := s.Expected(); math.Abs(h-c) > 1e-9 {
		t.Errorf("at MinQ: honest %v, cheat %v", h, c)
	}
	if _, err := (Spot{Verifiers: -1}).Catch(); !errors.Is(err, ErrArgument) {
		t.Errorf("verifiers -1: %v, want ErrArgument", err)
	}
}
