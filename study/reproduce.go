package study

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/engine/remote"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/tensor"
)

// ReproduceOptions control Reproduce.
type ReproduceOptions struct {
	Sample    int // entries to regenerate, spread evenly over the manifest (<= 0: all)
	Tolerance int // largest Hamming distance accepted between an image fingerprint and the manifest's
	Workers   int
	// ImageEngine returns the engine that runs image model ref; nil: the built-in models
	// (the hook for other engines).
	ImageEngine func(ref engine.ModelRef) (engine.Engine, error)
	// Remote engines rerun the entries a remote engine made (profile "remote@..."): the one
	// with the entry's label, else the first serving the entry's model name.
	Remote []RemoteEngine
}

// remoteFor returns the remote engine that reruns an entry made by a remote engine.
func (o *ReproduceOptions) remoteFor(label, model string) (*remote.Engine, error) {
	var byName *remote.Engine
	for _, r := range o.Remote {
		if r.Ref().Name != model {
			continue
		}
		if r.Label == label {
			return r.Engine, nil
		}
		if byName == nil {
			byName = r.Engine
		}
	}
	if byName == nil {
		return nil, fmt.Errorf("study: made by remote engine %s: give --engine for model %s to rerun it", label, model)
	}
	return byName, nil
}

// Reproduced is the outcome of one regenerated entry.
type Reproduced struct {
	Key         string
	Identical   bool // same artifact bytes
	MaxDistance int  // largest fingerprint distance to the manifest's (0 for identical fingerprints)
	OK          bool // every fingerprint within tolerance (text: identical tokens)
	Err         error
}

// Reproduce regenerates a sample of a study directory's entries with the task and profile each
// records, and compares the new artifact with the manifest: identical bytes, and every
// fingerprint within opts.Tolerance (text: the token digest must be equal). The models must
// be the same (checked by digest): built-in image models, or the GGUF files recorded in the
// text entries' settings.
func Reproduce(ctx context.Context, dir string, opts ReproduceOptions) ([]Reproduced, error) {
	ds, err := OpenDataset(dir, true)
	if err != nil {
		return nil, err
	}
	entries := ds.Entries("")
	ds.Close()
	if opts.Sample > 0 && opts.Sample < len(entries) {
		var pick []Entry
		for i := range opts.Sample {
			pick = append(pick, entries[i*len(entries)/opts.Sample])
		}
		entries = pick
	}
	if opts.ImageEngine == nil {
		opts.ImageEngine = builtinImageEngine
	}
	r := &Run{Options: Options{Workers: opts.Workers}}
	if r.Workers <= 0 {
		r.Workers = runtime.GOMAXPROCS(0)
	}
	out := make([]Reproduced, len(entries))
	var (
		mu      sync.Mutex
		engines = map[string]engine.Engine{}
		texts   = map[string]*llm.Model{}
	)
	err = r.Do(ctx, "reproducing", len(entries), func(ctx context.Context, i int) error {
		e := entries[i]
		res := Reproduced{Key: e.Key}
		data, err := func() ([]byte, error) {
			t, err := e.Task.EngineTask()
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(t.Profile, remoteLabelPrefix) {
				eng, err := opts.remoteFor(t.Profile, t.Model.Name)
				if err != nil {
					return nil, err
				}
				a, err := eng.Run(ctx, t)
				if err != nil || t.Kind != engine.KindText {
					return artifactData(a), err
				}
				return fingerprint.TextRecord{Text: a.Data, Tokens: a.Tokens}.MarshalBinary()
			}
			switch t.Kind {
			case engine.KindImage:
				mu.Lock()
				eng, ok := engines[t.Model.String()]
				if !ok {
					eng, err = opts.ImageEngine(t.Model)
					engines[t.Model.String()] = eng
				}
				mu.Unlock()
				if err != nil {
					return nil, err
				}
				a, err := eng.Run(ctx, t)
				if err != nil {
					return nil, err
				}
				return a.Data, nil
			case engine.KindText:
				path := e.Task.Settings["model_path"]
				mu.Lock()
				m, ok := texts[path]
				if !ok {
					m, err = llm.Load(path, "")
					texts[path] = m
				}
				mu.Unlock()
				if err != nil {
					return nil, err
				}
				if m.Digest != t.Model.Digest {
					return nil, fmt.Errorf("study: %s is not the model of the entry (digest differs)", path)
				}
				prof, err := tensor.ProfileByName(t.Profile)
				if err != nil {
					return nil, err
				}
				topN, _ := strconv.Atoi(e.Task.Settings["top_n"])
				p := llm.Params{Decode: t.Text.Decode, MaxTokens: t.Text.MaxTokens, Temperature: t.Text.Temperature,
					TopK: t.Text.TopK, TopP: t.Text.TopP, Seed: t.Seed, TopN: topN}
				res, err := m.Generate(ctx, m.Tok.Encode(t.Prompt, true, true), p, prof)
				if err != nil {
					return nil, err
				}
				return fingerprint.TextRecord{Text: []byte(res.Text), Tokens: res.Tokens}.MarshalBinary()
			default:
				return nil, fmt.Errorf("study: cannot regenerate a %s task", t.Kind)
			}
		}()
		if err == nil {
			a := &engine.Artifact{MediaType: e.MediaType, Data: data}
			res.Identical = digestHex(data) == e.Digest
			res.OK = true
			for _, name := range slices.Sorted(maps.Keys(e.Fingerprints)) {
				s, perr := fingerprint.ParseScheme(name)
				if perr != nil {
					err = perr
					break
				}
				fp, ferr := fingerprint.Of(a, s, fingerprint.Options{})
				want, herr := hex.DecodeString(e.Fingerprints[name])
				if ferr != nil || herr != nil {
					err = fmt.Errorf("study: fingerprint %s: %v %v", name, ferr, herr)
					break
				}
				d, derr := fingerprint.Distance(fp, want)
				if derr != nil {
					err = derr
					break
				}
				res.MaxDistance = max(res.MaxDistance, d)
				tol := opts.Tolerance
				if s.MaxTolerance() < tol {
					tol = s.MaxTolerance()
				}
				res.OK = res.OK && d <= tol
			}
		}
		if err != nil {
			res.OK, res.Err = false, err
		}
		out[i] = res
		return nil
	})
	return out, err
}

func builtinImageEngine(ref engine.ModelRef) (engine.Engine, error) {
	ms, err := BuiltinImageModels(ref.Name)
	if err != nil {
		return nil, err
	}
	if !ref.Digest.IsZero() && ms[0].Ref.Digest != ref.Digest {
		return nil, fmt.Errorf("study: built-in model %s has digest %s, the entry %s", ref.Name, ms[0].Ref.Digest, ref.Digest)
	}
	return ms[0].Engine, nil
}

func digestHex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// WriteReproduced writes one line per entry that was not reproduced within tolerance and a
// summary line; it returns how many were not.
func WriteReproduced(w io.Writer, res []Reproduced, tolerance int) (int, error) {
	var identical, ok int
	for _, r := range res {
		var err error
		switch {
		case r.Err != nil:
			_, err = fmt.Fprintf(w, "FAILED %s: %v\n", r.Key, r.Err)
		case !r.OK:
			_, err = fmt.Fprintf(w, "OUTSIDE %s: a fingerprint at distance %d\n", r.Key, r.MaxDistance)
		default:
			ok++
		}
		if err != nil {
			return 0, err
		}
		if r.Identical {
			identical++
		}
	}
	_, err := fmt.Fprintf(w, "%d regenerated: %d byte-identical, %d within tolerance %d, %d not\n",
		len(res), identical, ok, tolerance, len(res)-ok)
	return len(res) - ok, err
}

// artifactData is a's bytes, nil for no artifact.
func artifactData(a *engine.Artifact) []byte {
	if a == nil {
		return nil
	}
	return a.Data
}
