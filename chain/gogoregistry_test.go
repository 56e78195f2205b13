package chain

import (
	"sync"
	"testing"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The gogoproto registry is patched (third_party/gogoproto, README "Fast start") so that
// RegisterFile, which CometBFT's generated packages call from init, only records the compressed
// descriptor and the registry is built on first use. These tests check that the registry built
// that way still resolves CometBFT's and gogoproto's own types, from several goroutines at once,
// and that registering no longer decodes.

// TestGogoprotoRegistryResolves looks descriptors up through both of gogoproto's resolvers.
// It is the first test in this package to read the registry, so its goroutines race to build it
// (go test -race checks the locking).
func TestGogoprotoRegistryResolves(t *testing.T) {
	tests := []struct {
		name     protoreflect.FullName
		resolver gogoproto.Resolver
		check    func(t *testing.T, d protoreflect.Descriptor)
	}{
		{"tendermint.types.Block", gogoproto.GogoResolver, func(t *testing.T, d protoreflect.Descriptor) {
			md, ok := d.(protoreflect.MessageDescriptor)
			if !ok {
				t.Fatalf("got %T, want a message", d)
			}
			f := md.Fields().ByName("header")
			if f == nil || f.Message() == nil || f.Message().FullName() != "tendermint.types.Header" {
				t.Errorf("field header = %v, want a tendermint.types.Header", f)
			}
		}},
		{"tendermint.abci.Request", gogoproto.HybridResolver, func(t *testing.T, d protoreflect.Descriptor) {
			md, ok := d.(protoreflect.MessageDescriptor)
			if !ok {
				t.Fatalf("got %T, want a message", d)
			}
			if md.Oneofs().ByName("value") == nil || md.Fields().ByName("finalize_block") == nil {
				t.Errorf("tendermint.abci.Request lacks its oneof value or field finalize_block")
			}
		}},
		{"tendermint.types.SignedMsgType", gogoproto.GogoResolver, func(t *testing.T, d protoreflect.Descriptor) {
			ed, ok := d.(protoreflect.EnumDescriptor)
			if !ok {
				t.Fatalf("got %T, want an enum", d)
			}
			if v := ed.Values().ByName("SIGNED_MSG_TYPE_PREVOTE"); v == nil || v.Number() != 1 {
				t.Errorf("SIGNED_MSG_TYPE_PREVOTE = %v, want number 1", v)
			}
		}},
		{"gogoproto.nullable", gogoproto.GogoResolver, func(t *testing.T, d protoreflect.Descriptor) {
			xd, ok := d.(protoreflect.ExtensionDescriptor)
			if !ok {
				t.Fatalf("got %T, want an extension", d)
			}
			if xd.ContainingMessage().FullName() != "google.protobuf.FieldOptions" {
				t.Errorf("gogoproto.nullable extends %s, want google.protobuf.FieldOptions", xd.ContainingMessage().FullName())
			}
		}},
		{"google.protobuf.Timestamp", gogoproto.GogoResolver, func(t *testing.T, d protoreflect.Descriptor) {
			if _, ok := d.(protoreflect.MessageDescriptor); !ok {
				t.Fatalf("got %T, want a message", d)
			}
		}},
	}
	var wg sync.WaitGroup
	got := make([]protoreflect.Descriptor, len(tests))
	errs := make([]error, len(tests))
	for i, tt := range tests {
		wg.Go(func() { got[i], errs[i] = tt.resolver.FindDescriptorByName(tt.name) })
	}
	wg.Wait()
	for i, tt := range tests {
		t.Run(string(tt.name), func(t *testing.T) {
			if errs[i] != nil {
				t.Fatalf("FindDescriptorByName(%q): %v", tt.name, errs[i])
			}
			tt.check(t, got[i])
		})
	}

	fd, err := gogoproto.HybridResolver.FindFileByPath("tendermint/types/types.proto")
	if err != nil {
		t.Fatalf("FindFileByPath: %v", err)
	}
	if fd.Messages().ByName("Header") == nil {
		t.Error("tendermint/types/types.proto has no message Header")
	}
	n := 0
	gogoproto.GogoResolver.RangeFiles(func(protoreflect.FileDescriptor) bool { n++; return true })
	if want := len(gogoproto.AllFileDescriptors()); n != want {
		t.Errorf("GogoResolver ranges over %d files, %d were registered", n, want)
	}
}

// TestGogoprotoRegisterFileIsLazy fails against upstream gogoproto v1.7.2, whose RegisterFile
// decompresses, unmarshals and builds the descriptor (hundreds of allocations) on every call.
func TestGogoprotoRegisterFileIsLazy(t *testing.T) {
	const file = "tendermint/types/types.proto"
	desc := gogoproto.FileDescriptor(file)
	if desc == nil {
		t.Fatalf("%s is not registered", file)
	}
	// Registering a file again is what upstream tolerates (the registry keeps the first); the
	// copies pending here are decoded and skipped on the next read below.
	allocs := testing.AllocsPerRun(50, func() { gogoproto.RegisterFile(file, desc) })
	if allocs >= 1 {
		t.Errorf("RegisterFile: %.1f allocations per call, want under 1 (no decoding at registration)", allocs)
	}
	if _, err := gogoproto.GogoResolver.FindDescriptorByName("tendermint.types.Block"); err != nil {
		t.Fatalf("after registering again: %v", err)
	}
}
