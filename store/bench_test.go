package store

import (
	"encoding/binary"
	"testing"
)

func benchmarkPut(b *testing.B, size int, noSync bool) {
	s := openTest(b, Options{NoSync: noSync})
	data := randomBytes(1, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		binary.BigEndian.PutUint64(data, i) // new bytes, so no Put is a no-op
		d, err := s.Put(b.Context(), data, ArtifactMeta{MediaType: "image/png"})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Delete(d); err != nil { // keep the file small
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkPut1MiB(b *testing.B)       { benchmarkPut(b, 1<<20, false) }
func BenchmarkPut8MiB(b *testing.B)       { benchmarkPut(b, 8<<20, false) }
func BenchmarkPut1MiBNoSync(b *testing.B) { benchmarkPut(b, 1<<20, true) }
func BenchmarkPut8MiBNoSync(b *testing.B) { benchmarkPut(b, 8<<20, true) }

func benchmarkGet(b *testing.B, size int, skipVerify bool) {
	s := openTest(b, Options{NoSync: true, SkipVerify: skipVerify})
	d, err := s.Put(b.Context(), randomBytes(1, size), ArtifactMeta{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Get(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet1MiB(b *testing.B)           { benchmarkGet(b, 1<<20, false) }
func BenchmarkGet8MiB(b *testing.B)           { benchmarkGet(b, 8<<20, false) }
func BenchmarkGet1MiBSkipVerify(b *testing.B) { benchmarkGet(b, 1<<20, true) }
func BenchmarkGet8MiBSkipVerify(b *testing.B) { benchmarkGet(b, 8<<20, true) }

func BenchmarkPutState(b *testing.B) {
	s := openTest(b, Options{})
	value := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.PutState("pending/task", value); err != nil {
			b.Fatal(err)
		}
	}
}
