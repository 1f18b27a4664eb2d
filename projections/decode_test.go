package projections

import (
	"encoding/json"
	"testing"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

func TestDecodeEventAgreesWithTheDomain(t *testing.T) {
	for _, data := range []string{
		// As appended, as jsonb gives it back, with more fields, other
		// letter cases, other time zones and precisions, escapes.
		`{"user_id":"0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b","song_id":"0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6c","listened_at":"2026-11-28T10:00:00.123456Z"}`,
		`{"song_id": "0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6c", "user_id": "0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b", "listened_at": "2026-11-28T10:00:00.123456Z"}`,
		`{"User_ID":"a","SONG_ID":"b","listened_at":"2026-11-28T17:00:00+07:00","extra":[1,{"x":null}]}`,
		`{"user_id":"\u0061\u00e9","song_id":"b\"c","listened_at":"2026-01-02T03:04:05Z"}`,
		`{"user_id":"a","song_id":"b"}`,
		`{}`,
	} {
		rec := eventstore.RecordedEvent{Type: "ListenRecorded", Data: json.RawMessage(data)}
		got, err := decodeEvent(rec)
		want, wantErr := domain.DecodeEvent(rec.Type, rec.Data)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%s: error %v, domain's %v", data, err, wantErr)
		}
		g, w := got.(domain.ListenRecorded), want.(domain.ListenRecorded)
		if g.UserID != w.UserID || g.SongID != w.SongID || !g.ListenedAt.Equal(w.ListenedAt) {
			t.Errorf("%s: decoded %+v, domain's %+v", data, g, w)
		}
	}
	for _, data := range []string{`{"user_id":1}`, `{"listened_at":"yesterday"}`, `[`, ``} {
		rec := eventstore.RecordedEvent{Type: "ListenRecorded", Data: json.RawMessage(data)}
		if _, err := decodeEvent(rec); err == nil {
			t.Errorf("%q decoded", data)
		}
	}
	// Other events go through the domain's decoder.
	rec := eventstore.RecordedEvent{Type: "SongDeleted", Data: json.RawMessage(`{"song_id":"s"}`)}
	if e, err := decodeEvent(rec); err != nil || e.(domain.SongDeleted).SongID != "s" {
		t.Errorf("SongDeleted: %v, %v", e, err)
	}
}

func BenchmarkDecodeListen(b *testing.B) {
	rec := eventstore.RecordedEvent{Type: "ListenRecorded", Data: json.RawMessage(
		`{"song_id": "0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6c", "user_id": "0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b", "listened_at": "2026-11-28T10:00:00.123456Z"}`)}
	b.Run("domain", func(b *testing.B) {
		for b.Loop() {
			if _, err := domain.DecodeEvent(rec.Type, rec.Data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("projections", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeEvent(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
