// Package cliconfig fills a command's flags from a configuration file and the environment, so
// that a long-running daemon (genquorum node) can be set up without a long command line.
//
// Precedence, highest first: a flag given on the command line; the environment variable
// PREFIX_NAME (NAME is the flag name upper-cased with '-' as '_', e.g. GENQUORUM_LOG_LEVEL for
// --log-level); the key of the same name in the file (flag names as they are, with '-' or
// '_'); the flag's default. Every flag can be set this way, and nothing else: a key in the
// file that names no flag is an error (a typo must not be silently ignored).
//
// The file is TOML (.toml) or YAML (.yaml, .yml), read with viper. Lists are TOML/YAML arrays
// in the file and comma-separated in the environment (for flags that take several values).
package cliconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvName returns the environment variable that sets flag name under prefix.
func EnvName(prefix, name string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Apply sets every flag of fs that was not given on the command line from the environment
// (variables prefix_NAME) or, failing that, from file (none when file is ""). skip names
// flags that are never set this way (e.g. "config" itself, "help").
func Apply(fs *pflag.FlagSet, file, prefix string, skip ...string) error {
	fromFile := map[string]any{}
	if file != "" {
		v := viper.New()
		v.SetConfigFile(file)
		switch strings.ToLower(filepath.Ext(file)) {
		case ".toml", ".yaml", ".yml":
		default:
			return fmt.Errorf("config %s: want a .toml, .yaml or .yml file", file)
		}
		if err := v.ReadInConfig(); err != nil {
			return fmt.Errorf("config %s: %w", file, err)
		}
		for _, k := range v.AllKeys() {
			name := strings.ReplaceAll(k, "_", "-")
			f := fs.Lookup(name)
			if f == nil || slices.Contains(skip, name) {
				return fmt.Errorf("config %s: %q is not a flag of this command", file, k)
			}
			fromFile[name] = v.Get(k)
		}
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || slices.Contains(skip, f.Name) {
			return
		}
		env := EnvName(prefix, f.Name)
		if s, ok := os.LookupEnv(env); ok {
			var vals []string
			if _, isSlice := f.Value.(pflag.SliceValue); isSlice {
				for _, p := range strings.Split(s, ",") {
					if p = strings.TrimSpace(p); p != "" {
						vals = append(vals, p)
					}
				}
			} else {
				vals = []string{s}
			}
			if e := set(fs, f, vals); e != nil {
				err = fmt.Errorf("$%s: %w", env, e)
			}
			return
		}
		if v, ok := fromFile[f.Name]; ok {
			vals, e := strings_(v)
			if e == nil {
				e = set(fs, f, vals)
			}
			if e != nil {
				err = fmt.Errorf("config %s: %s: %w", file, f.Name, e)
			}
		}
	})
	return err
}

// strings_ turns a value read from the file into the strings to set.
func strings_(v any) ([]string, error) {
	switch x := v.(type) {
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			switch e.(type) {
			case []any, map[string]any:
				return nil, fmt.Errorf("nested value %v", e)
			}
			out[i] = fmt.Sprint(e)
		}
		return out, nil
	case map[string]any:
		return nil, fmt.Errorf("a table, want a value")
	case nil:
		return nil, fmt.Errorf("no value")
	}
	return []string{fmt.Sprint(v)}, nil
}

// set gives f the values: all at once for a list flag, the single one otherwise.
func set(fs *pflag.FlagSet, f *pflag.Flag, vals []string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		if err := sv.Replace(vals); err != nil {
			return err
		}
		f.Changed = true
		return nil
	}
	if len(vals) != 1 {
		return fmt.Errorf("%d values for a flag that takes one", len(vals))
	}
	return fs.Set(f.Name, vals[0])
}
