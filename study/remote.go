package study

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/remote"
)

// RemoteEngine is a remote engine (package engine/remote) a study runs, and the profile label
// its outputs carry. A remote engine's numerics are its server's, not a simulated profile's:
// its outputs form one more column of the study, labelled "remote@HOST:PORT".
type RemoteEngine struct {
	Label  string
	Engine *remote.Engine
}

// Ref is the model the engine serves: its name and the operator-declared digest (zero when
// none was declared).
func (r RemoteEngine) Ref() engine.ModelRef { return r.Engine.Spec().ModelRef() }

// OpenRemote opens the remote engines of specs, each in the form genquorum node's --engine
// takes (NAME=KIND:URL[?options]), and checks each serves kind ("": any). Unlike a node it runs no
// self-test and needs no declared digest: a study measures what the engine does, including
// non-determinism. Two specs with one label get "#2", "#3"... appended.
func OpenRemote(ctx context.Context, kind engine.Kind, specs ...string) ([]RemoteEngine, error) {
	var out []RemoteEngine
	seen := map[string]int{}
	for _, s := range specs {
		sp, err := remote.ParseSpec(s)
		if err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		e, err := remote.Open(ctx, sp)
		if err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		if kind != "" && e.Kind() != kind {
			return nil, fmt.Errorf("study: engine %s runs %s tasks; this study needs %s", sp.Name, e.Kind(), kind)
		}
		label := RemoteLabel(sp)
		seen[label]++
		if n := seen[label]; n > 1 {
			label = fmt.Sprintf("%s#%d", label, n)
		}
		out = append(out, RemoteEngine{Label: label, Engine: e})
	}
	return out, nil
}

// RemoteLabel is the profile label of a remote engine's outputs: "remote@HOST:PORT" of its
// URL, or "remote@exec:PROGRAM" for an exec engine.
func RemoteLabel(sp remote.Spec) string {
	if sp.Kind == remote.KindExec {
		return remoteLabelPrefix + "exec:" + filepath.Base(sp.URL)
	}
	if u, err := url.Parse(sp.URL); err == nil && u.Host != "" {
		return remoteLabelPrefix + u.Host
	}
	return remoteLabelPrefix + sp.URL
}

// remoteLabelPrefix starts every remote engine's profile label.
const remoteLabelPrefix = "remote@"

// RemoteImageModels returns remote image engines as image models, each run under its label
// only (the config's profiles are simulated hardware, which a remote engine cannot apply).
func RemoteImageModels(rs []RemoteEngine) []ImageModel {
	var out []ImageModel
	for _, r := range rs {
		out = append(out, ImageModel{Ref: r.Ref(), Engine: r.Engine, Profiles: []string{r.Label}})
	}
	return out
}
