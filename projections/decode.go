package projections

import (
	gojson "github.com/goccy/go-json"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// decodeEvent is domain.DecodeEvent, but for ListenRecorded, the event the
// log holds millions of: the listen projectors decode every one of them,
// and encoding/json (the domain's decoder: it imports the standard library
// only) was a third of the service's CPU while they caught up. goccy/go-json
// (already in the module graph through Gin) decodes the same JSON into the
// same struct several times faster (TestDecodeEventAgreesWithTheDomain).
func decodeEvent(rec eventstore.RecordedEvent) (domain.Event, error) {
	if rec.Type != (domain.ListenRecorded{}).EventType() {
		return domain.DecodeEvent(rec.Type, rec.Data)
	}
	var e domain.ListenRecorded
	if err := gojson.Unmarshal(rec.Data, &e); err != nil {
		// The domain's decoder words the error as every other.
		return domain.DecodeEvent(rec.Type, rec.Data)
	}
	return e, nil
}
