package domain

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Event is a past-tense fact about one aggregate. Its type name is part of the
// log's contract: it never changes once events of it were written. A changed
// shape gets a new schema version and an upcaster, never a new meaning.
type Event interface {
	EventType() string
}

var registry = map[string]func([]byte) (Event, error){}

// register makes an event type decodable: call it from init of each
// aggregate's file. EventType must have a value receiver.
func register[E Event]() {
	var zero E
	name := zero.EventType()
	if _, dup := registry[name]; dup {
		panic("domain: event type registered twice: " + name) // a programming error, caught by any test
	}
	registry[name] = func(data []byte) (Event, error) {
		var e E
		err := json.Unmarshal(data, &e)
		return e, err
	}
}

// DecodeEvent turns stored JSON back into its event struct (a value, so type
// switches match on the plain struct type).
func DecodeEvent(eventType string, data []byte) (Event, error) {
	decode, ok := registry[eventType]
	if !ok {
		return nil, fmt.Errorf("domain: unknown event type %q", eventType)
	}
	e, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("domain: decode %s: %w", eventType, err)
	}
	return e, nil
}

// EventTypes lists every registered event type, sorted.
func EventTypes() []string {
	out := make([]string, 0, len(registry))
	for name := range registry {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Root tracks an aggregate's stream revision and its not yet appended events.
// Embed it in an aggregate; change state only through Record.
type Root struct {
	version int64 // revision of the last loaded or appended event; -1: no stream
	loaded  bool
	changes []Event
}

// Applier is an aggregate: it folds one event into its state.
type Applier interface {
	Apply(Event)
}

// Record applies a new event to the aggregate and keeps it to be appended.
func (r *Root) Record(a Applier, e Event) {
	a.Apply(e)
	r.changes = append(r.changes, e)
}

// Replay folds a stored event in (loading from the log).
func (r *Root) Replay(a Applier, e Event, revision uint64) {
	a.Apply(e)
	r.version = int64(revision)
	r.loaded = true
}

// Version is the revision of the last stored event, -1 for a new stream.
func (r *Root) Version() int64 {
	if !r.loaded {
		return -1
	}
	return r.version
}

// Changes are the events recorded since loading.
func (r *Root) Changes() []Event { return r.changes }

// Committed marks the recorded events as appended, ending at revision.
func (r *Root) Committed(revision uint64) {
	r.changes = nil
	r.version = int64(revision)
	r.loaded = true
}

// AggregateRoot gives generic repositories access to the embedded Root.
func (r *Root) AggregateRoot() *Root { return r }
