package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFakeFashionMNIST writes n synthetic 28x28 images and labels as the gzipped IDX files
// of a Fashion-MNIST training split, so that training runs without the dataset.
func writeFakeFashionMNIST(t *testing.T, dir string, n int) {
	t.Helper()
	write := func(name string, head []uint32, body []byte) {
		var raw bytes.Buffer
		raw.Write([]byte{0, 0, 8, byte(len(head))})
		for _, d := range head {
			binary.Write(&raw, binary.BigEndian, d)
		}
		raw.Write(body)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw.Bytes())
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, name), gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	imgs := make([]byte, n*28*28)
	labels := make([]byte, n)
	for i := range n {
		labels[i] = byte(i % 10)
		for p := range 28 * 28 {
			if (p/28+p%28+i)%(2+i%10) == 0 {
				imgs[i*784+p] = 200
			}
		}
	}
	write("train-images-idx3-ubyte.gz", []uint32{uint32(n), 28, 28}, imgs)
	write("train-labels-idx1-ubyte.gz", []uint32{uint32(n)}, labels)
}

func TestDiffusionTrainResume(t *testing.T) {
	dir := t.TempDir()
	writeFakeFashionMNIST(t, dir, 20)
	train := func(out string, extra ...string) {
		t.Helper()
		args := append([]string{"diffusion", "train", "--data", dir, "--out", filepath.Join(dir, out)}, extra...)
		if _, stderr, code := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	cfg := []string{"--tiny", "--batch", "4", "--micro-batch", "2"}
	train("full.gguf", append(cfg, "--steps", "3")...)
	train("part.gguf", append(cfg, "--steps", "2", "--checkpoint-every", "1")...)
	train("part.gguf", "--steps", "3", "--resume", filepath.Join(dir, "part.gguf.ckpt"))
	full, _ := os.ReadFile(filepath.Join(dir, "full.gguf"))
	part, _ := os.ReadFile(filepath.Join(dir, "part.gguf"))
	if len(full) == 0 || !bytes.Equal(full, part) {
		t.Errorf("3 steps in one run (%d bytes) and 2+1 with a resume (%d bytes) differ", len(full), len(part))
	}
	_, stderr, code := runCLI(t, "diffusion", "train", "--data", dir, "--resume", filepath.Join(dir, "part.gguf.ckpt"),
		"--batch", "8", "--out", filepath.Join(dir, "x.gguf"))
	if code != exitUsage {
		t.Errorf("changing --batch on --resume: exit %d (stderr %q), want %d", code, stderr, exitUsage)
	}
	_, stderr, code = runCLI(t, "diffusion", "train", "--tiny", "--data", t.TempDir(), "--out", filepath.Join(dir, "y.gguf"))
	if code != exitError || !bytes.Contains([]byte(stderr), []byte("dataset-fashion-mnist")) {
		t.Errorf("missing data: exit %d, stderr %q; want 1 and a hint to install dataset-fashion-mnist", code, stderr)
	}
}

func TestDiffusionVariants(t *testing.T) {
	dir := t.TempDir()
	writeFakeFashionMNIST(t, dir, 30)
	base := tinyDiffusionModel(t, dir, "base")
	var pngs [][]byte
	for _, method := range []string{"full", "lora", "ti"} {
		out := filepath.Join(dir, method+".gguf")
		_, stderr, code := runCLI(t, "diffusion", "variant", "--method", method, "--base", base, "--out", out, "--data", dir,
			"--split", "train", "--steps", "2", "--batch", "2", "--micro-batch", "2", "--lr", "0.01", "--concept-images", "3")
		if code != exitOK {
			t.Fatalf("variant %s: exit %d, stderr %q", method, code, stderr)
		}
		prompt := "A photo of a bag"
		if method == "ti" {
			prompt = "A photo of a <concept>"
		}
		img := filepath.Join(dir, method+".png")
		_, stderr, code = runCLI(t, "generate", "image", "--model", out, "--prompt", prompt, "--steps", "2", "--out", img)
		if code != exitOK {
			t.Fatalf("generate image with %s: exit %d, stderr %q", method, code, stderr)
		}
		b, _ := os.ReadFile(img)
		pngs = append(pngs, b)
	}
	for i := range pngs {
		for j := range i {
			if bytes.Equal(pngs[i], pngs[j]) {
				t.Errorf("variants %d and %d drew the same image", i, j)
			}
		}
	}
	if _, _, code := runCLI(t, "diffusion", "variant", "--method", "dreambooth", "--base", base, "--out", "x"); code != exitUsage {
		t.Errorf("unknown method: exit %d, want %d", code, exitUsage)
	}
}

func TestDiffusionDriftAndEval(t *testing.T) {
	dir := t.TempDir()
	model := tinyDiffusionModel(t, dir, "base")
	stdout, stderr, code := runCLI(t, "diffusion", "drift", "--model", model, "--seeds", "1", "--steps", "2",
		"--profiles", "ampere-fp16")
	if code != exitOK || !bytes.Contains([]byte(stdout), []byte("ampere-fp16")) || !bytes.Contains([]byte(stdout), []byte("phash")) {
		t.Errorf("drift: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, _, code = runCLI(t, "diffusion", "drift", "--model", model, "--profiles", "tpu")
	if code != exitUsage {
		t.Errorf("drift with an unknown profile: exit %d, want %d", code, exitUsage)
	}
}

func TestDiffusionEval(t *testing.T) {
	dir := t.TempDir()
	model := tinyDiffusionModel(t, dir, "base")
	stdout, stderr, code := runCLI(t, "diffusion", "eval", "--model", model, "--classifier", "../../testdata/diffusion/classifier.gguf",
		"--seeds", "1", "--steps", "1")
	if code != exitOK || !bytes.Contains([]byte(stdout), []byte("A photo of an ankle boot")) || !bytes.Contains([]byte(stdout), []byte("/10 = ")) {
		t.Errorf("eval: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, _, code = runCLI(t, "diffusion", "eval", "--model", model, "--classifier", "../../testdata/diffusion/classifier.gguf",
		"--seeds", "2", "--steps", "1", "--concept-class", "8")
	if code != exitOK || !bytes.Contains([]byte(stdout), []byte("<concept>")) || !bytes.Contains([]byte(stdout), []byte("/2 = ")) {
		t.Errorf("eval --concept-class: exit %d, stdout %q", code, stdout)
	}
}

// TestVariantMissingBaseNamesItsSource: variant has no --models-dir, so its error for a
// missing base must name $GENQUORUM_MODELS too (issue 18 README walk: --base base.gguf before
// training said only "--models-dir").
func TestVariantMissingBaseNamesItsSource(t *testing.T) {
	t.Setenv("GENQUORUM_MODELS", "")
	_, stderr, code := runCLI(t, "diffusion", "variant", "--method", "full", "--base", "no-such-base.gguf", "--out", filepath.Join(t.TempDir(), "x.gguf"))
	if code != exitError || !strings.Contains(stderr, "$GENQUORUM_MODELS") || !strings.Contains(stderr, "no-such-base.gguf") {
		t.Errorf("exit %d, stderr %q; want %d and an error naming the model and $GENQUORUM_MODELS", code, stderr, exitError)
	}
}
