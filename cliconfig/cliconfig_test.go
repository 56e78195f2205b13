package cliconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

type opts struct {
	home    string
	stake   uint64
	workers int
	noExec  bool
	listen  []string
	llm     []string
	wait    time.Duration
	config  string
}

func flags(o *opts) *pflag.FlagSet {
	fs := pflag.NewFlagSet("node", pflag.ContinueOnError)
	fs.StringVar(&o.home, "home", "", "")
	fs.Uint64Var(&o.stake, "stake", 10, "")
	fs.IntVar(&o.workers, "workers", 1, "")
	fs.BoolVar(&o.noExec, "no-executor", false, "")
	fs.StringSliceVar(&o.listen, "p2p-listen", []string{"default"}, "")
	fs.StringArrayVar(&o.llm, "llm", nil, "")
	fs.DurationVar(&o.wait, "wait", time.Second, "")
	fs.StringVar(&o.config, "config", "", "")
	return fs
}

func TestApply(t *testing.T) {
	const yaml = "home: /from/file\nstake: 500\nno-executor: true\np2p_listen: [a, b]\nllm:\n  - x.gguf\n  - y,z.gguf\nwait: 3s\n"
	const toml = "home = \"/from/toml\"\nworkers = 4\np2p-listen = [\"t\"]\n"
	tests := []struct {
		name    string
		file    string // name of the file (its extension picks the format), content below
		content string
		env     map[string]string
		args    []string
		want    opts
		wantErr string
	}{
		{name: "defaults", want: opts{stake: 10, workers: 1, listen: []string{"default"}, wait: time.Second}},
		{name: "yaml file", file: "c.yaml", content: yaml,
			want: opts{home: "/from/file", stake: 500, workers: 1, noExec: true, listen: []string{"a", "b"}, llm: []string{"x.gguf", "y,z.gguf"}, wait: 3 * time.Second}},
		{name: "toml file", file: "c.toml", content: toml,
			want: opts{home: "/from/toml", stake: 10, workers: 4, listen: []string{"t"}, wait: time.Second}},
		{name: "env beats file, flag beats env", file: "c.yaml", content: yaml,
			env:  map[string]string{"GQ_HOME": "/from/env", "GQ_STAKE": "7", "GQ_P2P_LISTEN": "e1, e2", "GQ_NO_EXECUTOR": "false"},
			args: []string{"--stake", "9"},
			want: opts{home: "/from/env", stake: 9, workers: 1, listen: []string{"e1", "e2"}, llm: []string{"x.gguf", "y,z.gguf"}, wait: 3 * time.Second}},
		{name: "flag list replaces file list", file: "c.yaml", content: yaml, args: []string{"--p2p-listen", "f"},
			want: opts{home: "/from/file", stake: 500, workers: 1, noExec: true, listen: []string{"f"}, llm: []string{"x.gguf", "y,z.gguf"}, wait: 3 * time.Second}},
		{name: "unknown key", file: "c.yaml", content: "stak: 5\n", wantErr: `"stak" is not a flag`},
		{name: "skipped key", file: "c.yaml", content: "config: other.yaml\n", wantErr: `"config" is not a flag`},
		{name: "bad value in file", file: "c.yaml", content: "stake: lots\n", wantErr: "stake"},
		{name: "bad value in env", env: map[string]string{"GQ_WORKERS": "many"}, wantErr: "$GQ_WORKERS"},
		{name: "list for a single flag", file: "c.yaml", content: "home: [a, b]\n", wantErr: "2 values"},
		{name: "table for a flag", file: "c.toml", content: "[home]\nx = 1\n", wantErr: "not a flag"},
		{name: "other extension", file: "c.json", content: "{}", wantErr: "want a .toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var o opts
			fs := flags(&o)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			file := ""
			if tt.file != "" {
				file = filepath.Join(t.TempDir(), tt.file)
				if err := os.WriteFile(file, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := Apply(fs, file, "GQ", "config")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(o, tt.want) {
				t.Fatalf("got %+v\nwant %+v", o, tt.want)
			}
		})
	}
}

func TestEveryFlagHasAnEnvName(t *testing.T) {
	if got := EnvName("GENQUORUM", "log-level"); got != "GENQUORUM_LOG_LEVEL" {
		t.Fatal(got)
	}
}
