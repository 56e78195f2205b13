package node

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
)

// textArtifact is what an LLM engine returns for a text task.
var textArtifact = &engine.Artifact{MediaType: engine.MediaTypeTokens, Data: []byte(" Hello world"), Tokens: []int32{15043, 3186}}

var textModel = engine.ModelRef{Name: "tiny", Digest: engine.Digest{7}}

// pieces is a stand-in detokeniser that knows textModel: id 15043 is " Hello", 3186 " world".
func pieces(m engine.ModelRef, ids []int32) ([]byte, bool, error) {
	if m != textModel {
		return nil, false, nil
	}
	var b []byte
	for _, id := range ids {
		switch id {
		case 15043:
			b = append(b, " Hello"...)
		case 3186:
			b = append(b, " world"...)
		default:
			b = append(b, "<?>"...)
		}
	}
	return b, true, nil
}

func TestStoredFormRoundTrip(t *testing.T) {
	data, mediaType, err := storedForm(textArtifact, fingerprint.TokenScheme)
	if err != nil {
		t.Fatal(err)
	}
	if mediaType != fingerprint.MediaTypeTextRecord {
		t.Errorf("media type %q, want %q", mediaType, fingerprint.MediaTypeTextRecord)
	}
	accepted, err := fingerprint.Of(textArtifact, fingerprint.TokenScheme, fingerprint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &Fetched{Data: data}
	if err := checkText(f, textModel, accepted, FetchOptions{Detokenize: pieces}); err != nil {
		t.Fatalf("checkText(honest record) = %v", err)
	}
	if !bytes.Equal(f.Data, textArtifact.Data) || !slices.Equal(f.Tokens, textArtifact.Tokens) || !f.TextChecked {
		t.Errorf("checkText(honest record) left %q %v checked %v, want %q %v checked", f.Data, f.Tokens, f.TextChecked, textArtifact.Data, textArtifact.Tokens)
	}

	image := &engine.Artifact{MediaType: "image/png", Data: []byte("png bytes")}
	data, mediaType, err = storedForm(image, fingerprint.ImageScheme(imghash.AverageHash, 8))
	if err != nil || !bytes.Equal(data, image.Data) || mediaType != "image/png" {
		t.Errorf("storedForm(image) = %q, %q, %v; want the engine's bytes", data, mediaType, err)
	}
}

func TestCheckTextRejects(t *testing.T) {
	honest, _, err := storedForm(textArtifact, fingerprint.TokenScheme)
	if err != nil {
		t.Fatal(err)
	}
	accepted := fingerprint.OfTokens(textArtifact.Tokens)
	otherText, err := fingerprint.TextRecord{Text: []byte(" Hello there"), Tokens: textArtifact.Tokens}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		model   engine.ModelRef
		want    error
		message string // a part of the error naming what differs
	}{
		{"tampered ids", tamper(honest, fingerprint.TokenScheme), textModel, ErrTokenMismatch, "2 token ids hash to the text:tokens fingerprint"},
		{"not a record", []byte(" Hello world, said the model"), textModel, fingerprint.ErrTextRecord, "starts with"},
		{"truncated record", honest[:len(honest)-1], textModel, fingerprint.ErrTextRecord, "text of 12 bytes announced, 11 bytes left"},
		{"text the ids do not render", otherText, textModel, ErrTextMismatch, `differ from byte 7 ("world" vs "there")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Fetched{Data: tt.data}
			err := checkText(f, tt.model, accepted, FetchOptions{Detokenize: pieces})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("checkText = %v, want %v naming %q", err, tt.want, tt.message)
			}
		})
	}
	// Without the model, the text cannot be checked against the ids, only the ids against
	// the fingerprint.
	f := &Fetched{Data: otherText}
	if err := checkText(f, engine.ModelRef{Name: "unknown"}, accepted, FetchOptions{Detokenize: pieces}); err != nil || f.TextChecked {
		t.Errorf("checkText with an unknown model = %v, checked %v; want nil, unchecked", err, f.TextChecked)
	}
}

func TestTamper(t *testing.T) {
	honest, _, err := storedForm(textArtifact, fingerprint.TokenScheme)
	if err != nil {
		t.Fatal(err)
	}
	var rec fingerprint.TextRecord
	if err := rec.UnmarshalBinary(tamper(honest, fingerprint.TokenScheme)); err != nil {
		t.Fatalf("tampered record does not decode: %v", err)
	}
	if !bytes.Equal(rec.Text, textArtifact.Data) || slices.Equal(rec.Tokens, textArtifact.Tokens) || len(rec.Tokens) != len(textArtifact.Tokens) {
		t.Errorf("tampered record %q %v; want the same text and other ids than %v", rec.Text, rec.Tokens, textArtifact.Tokens)
	}
	for _, data := range [][]byte{nil, []byte("png")} {
		if got := tamper(data, fingerprint.ImageScheme(imghash.AverageHash, 8)); bytes.Equal(got, data) {
			t.Errorf("tamper(%q) left it unchanged", data)
		}
	}
}
