package tensor

import (
	"math/rand/v2"
	"testing"
)

// TestAttentionCacheMatchesFullSequence decodes one query at a time against a growing
// key/value cache and requires the same bits as causal attention over the whole sequence,
// for profiles whose partial sums do not depend on the number of masked keys (one partial,
// lanes, or chunks combined sequentially). This is what lets an LLM engine score a sequence
// in one pass and generate it token by token with identical numbers.
func TestAttentionCacheMatchesFullSequence(t *testing.T) {
	const tt, hq, hkv, d = 11, 4, 2, 8
	r := rand.New(rand.NewPCG(41, 42))
	q, k, v := randTensor(r, tt, hq, d), randTensor(r, tt, hkv, d), randTensor(r, tt, hkv, d)
	profiles := []Profile{Exact, {Name: "chunk4-seq", Chunk: 4, FMA: true, Input: BF16}}
	for _, name := range []string{"cpu-avx2", "cpu-avx512", "ampere-tf32", "hopper-bf16"} {
		p, _ := ProfileByName(name)
		profiles = append(profiles, p)
	}
	for _, p := range profiles {
		tp := NoGrad(p)
		full := tp.Attention(q, k, v, 0.3, true)
		for i := range tt {
			qi := FromData(q.Data[i*hq*d:(i+1)*hq*d], 1, hq, d)
			ki := FromData(k.Data[:(i+1)*hkv*d], i+1, hkv, d)
			vi := FromData(v.Data[:(i+1)*hkv*d], i+1, hkv, d)
			step := tp.Attention(qi, ki, vi, 0.3, true)
			if !sameBits(step.Data, full.Data[i*hq*d:(i+1)*hq*d]) {
				t.Errorf("%s: query %d with a cache of %d keys differs from the full sequence", p.Name, i, i+1)
			}
		}
	}
}
