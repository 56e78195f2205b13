package node

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/store"
)

func TestJobKeyRoundTrip(t *testing.T) {
	k := jobKey{task: ledger.TaskID{0xab, 1, 2}, round: 1}
	got, ok := parseJobKey(k.stateKey())
	if !ok || got != k {
		t.Errorf("parseJobKey(%q) = %v, %v; want %v", k.stateKey(), got, ok, k)
	}
	for _, bad := range []string{"", "job/", "job/zz/0", "job/" + k.task.String(), "job/" + k.task.String() + "/256", "height", "job/ab/1"} {
		if _, ok := parseJobKey(bad); ok {
			t.Errorf("parseJobKey(%q) accepted a malformed key", bad)
		}
	}
}

// TestLoadJobStates: openings and ballots come back from the store by job; keys that name no
// job are skipped, and an entry that does not decode is an error naming its key.
func TestLoadJobStates(t *testing.T) {
	k := jobKey{task: ledger.TaskID{0xab, 1, 2}, round: 1}
	for _, c := range []struct {
		name    string
		entries map[string]string
		want    map[jobKey]ballot
		wantErr string
	}{
		{"a ballot", map[string]string{k.voteKey(): `{"Valid":5,"RevealOpen":true}`}, map[jobKey]ballot{k: {Valid: 5, RevealOpen: true}}, ""},
		{"not a job's key: skipped", map[string]string{"vote/zz/0": `{}`, "vote/" + k.task.String(): `{}`}, map[jobKey]ballot{}, ""},
		{"another prefix: not read", map[string]string{k.stateKey(): `{"fingerprint":"AQ=="}`}, map[jobKey]ballot{}, ""},
		{"bad JSON", map[string]string{k.voteKey(): `{`}, nil, "node: vote " + k.voteKey() + ": "},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for key, v := range c.entries {
				if err := st.PutState(key, []byte(v)); err != nil {
					t.Fatal(err)
				}
			}
			got := map[jobKey]*ballot{}
			err = loadJobStates(st, "vote/", "vote", got)
			if c.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
					t.Errorf("loadJobStates = %v, want an error starting %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Errorf("loadJobStates loaded %d entries, want %d", len(got), len(c.want))
			}
			for k, w := range c.want {
				if b := got[k]; b == nil || *b != w {
					t.Errorf("loadJobStates: job %v = %+v, want %+v", k, b, w)
				}
			}
		})
	}
}
