package chain

import (
	"testing"

	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
)

// TestStopSafeDB checks what CometBFT's stray readers see once a node's database is closed
// while it stops: goleveldb itself fails such a read ("leveldb: closed", on which CometBFT's
// block store panics); the wrapper reads as empty, and still refuses writes.
func TestStopSafeDB(t *testing.T) {
	c := cfg.DefaultConfig()
	c.SetRoot(t.TempDir())
	var tr dbTracker
	db, err := tr.provide(&cfg.DBContext{ID: "blockstore", Config: c})
	if err != nil {
		t.Fatal(err)
	}
	raw := db.(*stopSafeDB).DB
	if err := db.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("open: Get = %q, %v", v, err)
	}
	tr.closeAll()
	if _, err := raw.Get([]byte("k")); err == nil {
		t.Fatal("goleveldb read after Close did not fail: the wrapper is not needed")
	}
	tests := []struct {
		name string
		do   func(dbm.DB) error
		fail bool
	}{
		{"Get", func(d dbm.DB) error {
			v, err := d.Get([]byte("k"))
			if v != nil {
				t.Errorf("Get after Close = %q, want nothing", v)
			}
			return err
		}, false},
		{"Has", func(d dbm.DB) error {
			ok, err := d.Has([]byte("k"))
			if ok {
				t.Error("Has after Close = true")
			}
			return err
		}, false},
		{"Close again", func(d dbm.DB) error { return d.Close() }, false},
		{"Set", func(d dbm.DB) error { return d.Set([]byte("k"), []byte("w")) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(db); (err != nil) != tc.fail {
				t.Errorf("after Close: error %v, want failure %v", err, tc.fail)
			}
		})
	}
}
