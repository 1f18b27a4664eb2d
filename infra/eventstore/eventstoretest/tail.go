package eventstoretest

import (
	"errors"
	"testing"

	"github.com/hustmusik/backend/infra/eventstore"
)

func testReadStreamTail(t *testing.T, s eventstore.Store) {
	ctx := ctxFor(t)
	stream := unique("tail")
	if _, err := s.ReadStreamTail(ctx, stream, 5); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("tail of a missing stream: %v, want ErrStreamNotFound", err)
	}
	evs := events("Tailed", 0, 12)
	mustAppend(t, s, stream, eventstore.NoStream(), evs...)
	mustAppend(t, s, unique("other"), eventstore.NoStream(), events("Tailed", 0, 3)...)
	got, err := s.ReadStreamTail(ctx, stream, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("tail has %d events, want 5", len(got))
	}
	for i, e := range got {
		if e.Revision != uint64(7+i) {
			t.Fatalf("tail[%d] has revision %d, want %d (forward order, last five)", i, e.Revision, 7+i)
		}
		checkSame(t, evs[7+i], e)
	}
	all, err := s.ReadStreamTail(ctx, stream, 100)
	if err != nil || len(all) != 12 || all[0].Revision != 0 {
		t.Fatalf("tail larger than the stream: %d events, %v", len(all), err)
	}
}
