package chain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/ledger"
)

// Ledger snapshots. The ledger state lives in memory; a Ledger opened on a directory
// (Ledger.Open, done by StartNode in DIR/data/ledger) writes the whole state
// (ledger.MarshalState) to state-HEIGHT there every SnapshotEvery blocks, keeping the newest
// two, and loads the newest one that decodes when it starts. Info then reports that height
// and its app hash, and CometBFT replays only the blocks above it: a node restarted after its
// old blocks were pruned (Settings / NodeOptions.RetainBlocks) does not need them. Each file
// is written to a temporary name, synced and renamed, so a crash leaves the previous
// snapshots intact; a snapshot is at most the block store's height, because the app commits
// a block after CometBFT stored it. Two are kept because a CometBFT rollback (Rollback) can
// move the chain one height below the newest.

// DefaultSnapshotEvery is how many blocks apart a Ledger snapshots its state by default.
const DefaultSnapshotEvery = 100

// snapshotsKept is how many snapshots stay on disk.
const snapshotsKept = 2

// LedgerDir returns the directory where the node whose CometBFT data directory is dataDir
// keeps its ledger snapshots.
func LedgerDir(dataDir string) string { return filepath.Join(dataDir, "ledger") }

const snapshotPrefix = "state-"

// snapshotHeights returns the heights of the snapshots in dir, ascending.
func snapshotHeights(dir string) ([]int64, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chain: ledger snapshots: %w", err)
	}
	var hs []int64
	for _, e := range ents {
		name, ok := strings.CutPrefix(e.Name(), snapshotPrefix)
		if !ok {
			continue
		}
		if h, err := strconv.ParseInt(name, 10, 64); err == nil && h > 0 {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	return hs, nil
}

func snapshotPath(dir string, h int64) string {
	return filepath.Join(dir, snapshotPrefix+strconv.FormatInt(h, 10))
}

// Open makes l persistent in dir: it loads the newest snapshot there (if any) and from then on
// Commit writes one every SnapshotEvery blocks. It must be called before InitChain or the
// first block; a snapshot that does not decode is reported, never skipped silently.
func (l *Ledger) Open(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("chain: ledger snapshots: %w", err)
	}
	l.dir = dir
	if l.SnapshotEvery <= 0 {
		l.SnapshotEvery = DefaultSnapshotEvery
	}
	hs, err := snapshotHeights(dir)
	if err != nil || len(hs) == 0 {
		return err
	}
	h := hs[len(hs)-1]
	b, err := os.ReadFile(snapshotPath(dir, h))
	if err != nil {
		return fmt.Errorf("chain: ledger snapshot: %w", err)
	}
	st, err := ledger.UnmarshalState(b)
	if err != nil {
		return fmt.Errorf("chain: ledger snapshot %s: %w (remove it to start from the one before)", snapshotPath(dir, h), err)
	}
	if int64(st.Height()) != h {
		return fmt.Errorf("chain: ledger snapshot %s holds height %d", snapshotPath(dir, h), st.Height())
	}
	l.st = st
	l.cache = ledger.NewSigCache(st.ChainID(), sigCacheSize)
	l.snapshot, l.oldest = h, hs[0]
	return nil
}

// SnapshotHeight returns the height of the newest snapshot on disk that the one before it
// backs up: blocks above it are what a restart replays. With two snapshots kept, that is the
// older one (a rollback may drop the newer). 0 without snapshots.
func (l *Ledger) SnapshotHeight() int64 {
	if l.dir == "" {
		return 0
	}
	return l.oldest
}

// saveSnapshot writes the committed state as state-HEIGHT and deletes all but the newest
// snapshotsKept snapshots.
func (l *Ledger) saveSnapshot() error {
	h := int64(l.st.Height())
	p := snapshotPath(l.dir, h)
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("chain: ledger snapshot: %w", err)
	}
	_, err = f.Write(l.st.MarshalState())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("chain: ledger snapshot: %w", err)
	}
	if d, err := os.Open(l.dir); err == nil {
		d.Sync()
		d.Close()
	}
	l.snapshot = h
	hs, err := snapshotHeights(l.dir)
	if err != nil {
		return err
	}
	for len(hs) > snapshotsKept {
		os.Remove(snapshotPath(l.dir, hs[0]))
		hs = hs[1:]
	}
	l.oldest = hs[0]
	return nil
}

// DropSnapshotsAbove deletes the ledger snapshots in dir above height (after a CometBFT
// rollback to height) and returns the height of the newest one left (0: none).
func DropSnapshotsAbove(dir string, height int64) (int64, error) {
	hs, err := snapshotHeights(dir)
	if err != nil {
		return 0, err
	}
	var left int64
	for _, h := range hs {
		if h > height {
			if err := os.Remove(snapshotPath(dir, h)); err != nil {
				return 0, fmt.Errorf("chain: %w", err)
			}
			continue
		}
		left = h
	}
	return left, nil
}
