package main

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/hashscan"
	"github.com/genquorum/genquorum/imgdecode"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/progress"
)

// hashSpecOptions are the flags that choose hashes, shared by hash and compare.
type hashSpecOptions struct {
	kinds       []string
	sizes       []int
	binbits     int
	format      string
	maxPixels   int64
	jpegDecoder string
}

func (o *hashSpecOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&o.kinds, "kind", kindNames(imghash.Kinds), "hash kinds (imagehash function names), comma-separated, in output order")
	f.IntSliceVar(&o.sizes, "size", []int{8}, "hash sizes of the grey hashes, comma-separated")
	f.IntVar(&o.binbits, "binbits", 3, "binbits of colorhash")
	f.StringVar(&o.format, "format", "tsv", "output format: tsv or json (JSON Lines)")
	f.Int64Var(&o.maxPixels, "max-pixels", imgdecode.DefaultMaxPixels, "reject images with more pixels than this")
	f.StringVar(&o.jpegDecoder, "jpeg-decoder", "turbo", "JPEG decoder: turbo (libjpeg-turbo compatible, as Pillow) or std (Go's image/jpeg)")
}

func kindNames(ks []imghash.Kind) []string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = k.String()
	}
	return s
}

// specs returns the hashes to compute, in output order: kinds in the order given, each grey
// kind at every size (ascending), colorhash at binbits.
func (o *hashSpecOptions) specs() ([]imghash.Spec, error) {
	if len(o.kinds) == 0 {
		return nil, usagef("--kind: no hash kind given")
	}
	sizes := slices.Clone(o.sizes)
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	if len(sizes) == 0 {
		return nil, usagef("--size: no size given")
	}
	var specs []imghash.Spec
	for _, name := range o.kinds {
		k, err := imghash.ParseKind(strings.TrimSpace(name))
		if err != nil {
			return nil, usagef("--kind: %v", err)
		}
		if slices.ContainsFunc(specs, func(s imghash.Spec) bool { return s.Kind == k }) {
			return nil, usagef("--kind: %v given twice", k)
		}
		if k == imghash.ColorHash {
			specs = append(specs, imghash.Spec{Kind: k, Size: o.binbits})
		} else {
			for _, s := range sizes {
				specs = append(specs, imghash.Spec{Kind: k, Size: s})
			}
		}
	}
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			flag := "--size"
			if s.Kind == imghash.ColorHash {
				flag = "--binbits"
			}
			return nil, usagef("%s: %v", flag, err)
		}
	}
	return specs, nil
}

// parse returns the hashes to compute (specs) and the decoding options the flags give.
func (o *hashSpecOptions) parse() ([]imghash.Spec, imgdecode.Options, error) {
	specs, err := o.specs()
	if err != nil {
		return nil, imgdecode.Options{}, err
	}
	dec, err := o.decodeOptions()
	return specs, dec, err
}

func (o *hashSpecOptions) decodeOptions() (imgdecode.Options, error) {
	opts := imgdecode.Options{MaxPixels: o.maxPixels}
	if o.maxPixels <= 0 {
		return opts, usagef("--max-pixels %d: must be positive", o.maxPixels)
	}
	switch o.jpegDecoder {
	case "turbo":
		opts.JPEG = imgdecode.JPEGTurbo
	case "std":
		opts.JPEG = imgdecode.JPEGStd
	default:
		return opts, usagef("--jpeg-decoder %q: want turbo or std", o.jpegDecoder)
	}
	return opts, nil
}

func (o *hashSpecOptions) checkFormat() error {
	if o.format != "tsv" && o.format != "json" {
		return usagef("--format %q: want tsv or json", o.format)
	}
	return nil
}

type hashOptions struct {
	hashSpecOptions
	workers  int
	progress string
}

func newHashCommand(g *globalOptions) *cobra.Command {
	var opts hashOptions
	cmd := &cobra.Command{
		Use:   "hash [flags] PATH...",
		Short: "Compute imagehash-compatible perceptual hashes of image files",
		Long: `hash computes perceptual hashes of PNG and JPEG files, bit for bit as the Python library
imagehash 4.3.2 (with Pillow 9.4) does: average_hash, dhash, dhash_vertical, phash,
phash_simple, whash (haar) and colorhash.

Each PATH is a file or a directory; directories are walked recursively and only .png, .jpg
and .jpeg files in them are hashed (other files are skipped silently). Files are hashed in
parallel. Output (stdout) is TSV with the header
  file  hash_name  hash_size_or_binbits  hex
(the layout of imagehash conformance vectors), or JSON Lines with the same keys
(--format json); rows are sorted by file, then by kind in the order of --kind, then size.
--size applies to the grey hashes, --binbits to colorhash.

A file that cannot be hashed (not an image, truncated or corrupt, empty, over --max-pixels)
is reported on stderr as "FILE: reason"; the others are still hashed and the command exits
with status 3.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHash(cmd.Context(), g, opts, args)
		},
	}
	opts.addFlags(cmd)
	cmd.Flags().IntVar(&opts.workers, "workers", 0, "files hashed at once (0: GOMAXPROCS)")
	cmd.Flags().StringVar(&opts.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	return cmd
}

func runHash(ctx context.Context, g *globalOptions, opts hashOptions, paths []string) error {
	specs, dec, err := opts.parse()
	if err != nil {
		return err
	}
	if err := opts.checkFormat(); err != nil {
		return err
	}
	if opts.progress != "auto" && opts.progress != "always" && opts.progress != "never" {
		return usagef("--progress %q: want auto, always or never", opts.progress)
	}

	files, bad := hashscan.Files(paths)
	scan := hashscan.Options{Decode: dec, Workers: opts.workers}
	if opts.progress == "always" || opts.progress == "auto" && progress.IsTerminal(g.stderr) {
		bar := progress.Always(g.stderr, len(files), "hashing")
		scan.Progress = func(done, total int) { _ = bar.Set(done) }
	}
	g.logger.Debug("hashing", "files", len(files), "specs", len(specs), "bad_paths", len(bad))
	res, err := hashscan.HashFiles(ctx, files, specs, scan)
	if err != nil {
		return err
	}
	res = append(res, bad...)
	slices.SortStableFunc(res, func(a, b hashscan.Result) int { return strings.Compare(a.File, b.File) })

	failed := 0
	for _, r := range res {
		if r.Err != nil {
			failed++
			fmt.Fprintf(g.stderr, "genquorum hash: %s: %v\n", r.File, r.Err)
		}
	}
	w := bufio.NewWriter(g.stdout)
	if err := hashscan.WriteResults(w, opts.format, res, specs); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("hash: write output: %w", err)
	}
	if failed > 0 {
		return partialError{failed: failed, total: len(res)}
	}
	return nil
}
