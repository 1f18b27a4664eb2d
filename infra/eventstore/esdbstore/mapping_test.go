package esdbstore

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

func TestEncodePosition(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      esdb.Position
		want    uint64
		wantErr bool
	}{
		{"self-committed event", esdb.Position{Commit: 43033, Prepare: 43033}, 43033, false},
		{"checkpoint without prepare (older servers)", esdb.Position{Commit: 15465, Prepare: 0}, 15465, false},
		{"legacy transaction: prepare before commit", esdb.Position{Commit: 900, Prepare: 700}, 900, false},
		{"stream read on a server without positions", esdb.Position{Commit: math.MaxUint64, Prepare: math.MaxUint64}, 0, true},
		{"prepare after commit", esdb.Position{Commit: 10, Prepare: 20}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encodePosition(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("encodePosition(%+v) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestDecodePosition(t *testing.T) {
	for _, tc := range []struct {
		in   uint64
		want esdb.AllPosition
	}{
		{0, esdb.Start{}},
		{1, esdb.Position{Commit: 1, Prepare: 1}},
		{43033, esdb.Position{Commit: 43033, Prepare: 43033}},
		{math.MaxUint64 - 1, esdb.Position{Commit: math.MaxUint64 - 1, Prepare: math.MaxUint64 - 1}},
	} {
		if got := decodePosition(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decodePosition(%d) = %#v, want %#v", tc.in, got, tc.want)
		}
		// Round trip: an event read back at the decoded place has the same position.
		if p, ok := tc.want.(esdb.Position); ok {
			if back, err := encodePosition(p); err != nil || back != tc.in {
				t.Errorf("round trip of %d gave %d, %v", tc.in, back, err)
			}
		}
	}
}

func TestToExpected(t *testing.T) {
	for _, tc := range []struct {
		in   eventstore.ExpectedRevision
		want esdb.ExpectedRevision
	}{
		{eventstore.Any(), esdb.Any{}},
		{eventstore.NoStream(), esdb.NoStream{}},
		{eventstore.Exact(0), esdb.Revision(0)},
		{eventstore.Exact(41), esdb.Revision(41)},
	} {
		if got := toExpected(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("toExpected(%s) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestMapCode(t *testing.T) {
	cause := errors.New("wrong expected version: expecting '1' but got '3'")
	for _, tc := range []struct {
		code     esdb.ErrorCode
		want     error
		wantText []string
	}{
		{esdb.ErrorCodeWrongExpectedVersion, eventstore.ErrWrongExpectedRevision, []string{`"song-1"`, "revision 1", "got '3'"}},
		{esdb.ErrorCodeStreamDeleted, eventstore.ErrStreamDeleted, []string{`"song-1"`}},
		{esdb.ErrorCodeResourceNotFound, eventstore.ErrStreamNotFound, []string{`"song-1"`}},
		{esdb.ErrorUnavailable, cause, []string{"esdbstore", `"song-1"`}},
		{esdb.ErrorCodeUnknown, cause, []string{"esdbstore"}},
	} {
		err := mapCode(tc.code, "append to", "song-1", eventstore.Exact(1), cause)
		if !errors.Is(err, tc.want) {
			t.Errorf("code %d: %v does not wrap %v", tc.code, err, tc.want)
		}
		for _, s := range tc.wantText {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("code %d: %q lacks %q", tc.code, err, s)
			}
		}
		for _, other := range []error{eventstore.ErrWrongExpectedRevision, eventstore.ErrStreamDeleted, eventstore.ErrStreamNotFound} {
			if other != tc.want && errors.Is(err, other) {
				t.Errorf("code %d: %v also wraps %v", tc.code, err, other)
			}
		}
	}
	// An error the client did not classify is wrapped as is.
	plain := errors.New("boom")
	if err := mapError("read stream", "x", eventstore.Any(), plain); !errors.Is(err, plain) || errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Errorf("plain error mapped to %v", err)
	}
}

func TestServerFilter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		filter  eventstore.Filter
		want    *esdb.SubscriptionFilter
		matches []string // event types (type filter) or streams (stream filter) the server must pass
		refuses []string
	}{
		{
			name:    "nothing: system events excluded",
			filter:  eventstore.Filter{},
			want:    esdb.ExcludeSystemEventsFilter(),
			matches: []string{"SongAdded"},
			refuses: []string{"$statsCollected", "$metadata"},
		},
		{
			name:    "exact types, anchored and quoted",
			filter:  eventstore.Filter{EventTypes: []string{"SongAdded", "Song.Renamed", "SongAdded"}},
			want:    &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: `^(?:Song\.Renamed|SongAdded)$`},
			matches: []string{"SongAdded", "Song.Renamed"},
			refuses: []string{"SongAddedLater", "XSongAdded", "SongXRenamed", "$SongAdded"},
		},
		{
			name:   "types win over stream prefixes (those are checked client-side)",
			filter: eventstore.Filter{EventTypes: []string{"OrderPaid"}, StreamPrefixes: []string{"order-"}},
			want:   &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: `^(?:OrderPaid)$`},
		},
		{
			name:   "stream prefixes",
			filter: eventstore.Filter{StreamPrefixes: []string{"user-", "artist-", "user-"}},
			want:   &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"artist-", "user-"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := serverFilter(tc.filter)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("serverFilter = %#v, want %#v", got, tc.want)
			}
			if got.Regex == "" {
				return
			}
			// .NET and Go agree on this subset of regular expressions.
			re := regexp.MustCompile(got.Regex)
			for _, s := range tc.matches {
				if !re.MatchString(s) {
					t.Errorf("%s does not match %q", got.Regex, s)
				}
			}
			for _, s := range tc.refuses {
				if re.MatchString(s) {
					t.Errorf("%s matches %q", got.Regex, s)
				}
			}
		})
	}
	cfg := Config{URL: "esdb://localhost:2113?tls=false"}
	cfg.setDefaults()
	opts := subscribeOptions(cfg, eventstore.Filter{EventTypes: []string{"A"}})
	if opts.MaxSearchWindow != 1 || opts.CheckpointInterval != 1 || opts.Filter == nil {
		t.Fatalf("live options %+v: want a filter, window 1 and interval 1 (a checkpoint after every filtered-out event)", opts)
	}
}

func TestToEventData(t *testing.T) {
	md := eventstore.Metadata{OccurredAt: time.Date(2024, 5, 17, 10, 30, 0, 0, time.UTC), ActorID: "user-1", SchemaVersion: 2, Source: "api"}
	good := eventstore.EventData{ID: uuid.New(), Type: "SongAdded", Data: json.RawMessage(`{"title":"Lạc Trôi"}`), Metadata: md}
	out, err := toEventData("song-1", []eventstore.EventData{good})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].EventID != good.ID || out[0].EventType != "SongAdded" || out[0].ContentType != esdb.ContentTypeJson || string(out[0].Data) != string(good.Data) {
		t.Fatalf("mapped %+v", out[0])
	}
	var back eventstore.Metadata
	if err := json.Unmarshal(out[0].Metadata, &back); err != nil || !reflect.DeepEqual(back, md) {
		t.Fatalf("metadata %s decodes to %+v, %v", out[0].Metadata, back, err)
	}

	for _, tc := range []struct {
		name   string
		stream string
		events []eventstore.EventData
	}{
		{"no events", "song-1", nil},
		{"empty stream", "", []eventstore.EventData{good}},
		{"system stream", "$settings", []eventstore.EventData{good}},
		{"no id", "song-1", []eventstore.EventData{{Type: "SongAdded", Data: json.RawMessage(`{}`)}}},
		{"same id twice", "song-1", []eventstore.EventData{good, good}},
		{"system type", "song-1", []eventstore.EventData{{ID: uuid.New(), Type: "$metadata", Data: json.RawMessage(`{}`)}}},
		{"data not JSON", "song-1", []eventstore.EventData{{ID: uuid.New(), Type: "SongAdded", Data: json.RawMessage(`{`)}}},
	} {
		if _, err := toEventData(tc.stream, tc.events); !errors.Is(err, domain.ErrValidation) {
			t.Errorf("%s: err = %v, want ErrValidation", tc.name, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	var c Config
	c.setDefaults()
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "URL") {
		t.Fatalf("no URL: %v", err)
	}
	bad := Config{URL: "esdb://x:2113", ScanPageSize: 1, ReadAllScanLimit: 1, LiveSearchWindow: -1, CheckpointInterval: -1,
		QuietFlush: -1, MaxBatchDelay: -2, RetryMinBackoff: time.Second, RetryMaxBackoff: time.Millisecond}
	err = bad.Validate()
	for _, want := range []string{"ScanPageSize", "LiveSearchWindow", "CheckpointInterval", "QuietFlush", "MaxBatchDelay", "RetryMaxBackoff"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a problem with %s", err, want)
		}
	}
}

func TestNew(t *testing.T) {
	logger := quietLogger()
	if _, err := New(Config{}, logger); err == nil {
		t.Fatal("New without URL succeeded")
	}
	_, err := New(Config{URL: "http://admin:s3cret@localhost:2113"}, logger)
	if err == nil {
		t.Fatal("New accepted an http:// URL")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error leaks the password: %v", err)
	}
	// A well-formed URL needs no server: New makes no network call.
	s, err := New(Config{URL: "esdb://127.0.0.1:1?tls=false"}, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.Close()
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"server unavailable", status.Error(codes.Unavailable, "connection refused"), true},
		{"cancelled stream", status.Error(codes.Canceled, "context canceled"), true},
		{"permission denied", status.Error(codes.PermissionDenied, "access denied"), false},
		{"unauthenticated", status.Error(codes.Unauthenticated, "bad credentials"), false},
		{"bad data in the log", permanent(errors.New("metadata is not JSON")), false},
		{"anything else", errors.New("EOF"), true},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("%s: retryable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
