package esdbstore

import (
	"os"
	"testing"

	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/eventstoretest"
)

// TestConformance runs the port's suite against a real KurrentDB when
// EVENTSTORE_URL is set (docker-compose.yml's kurrentdb service:
// EVENTSTORE_URL=esdb://localhost:2113?tls=false). The suite uses unique
// streams and types, so a shared server is fine.
func TestConformance(t *testing.T) {
	url := os.Getenv("EVENTSTORE_URL")
	if url == "" {
		t.Log("EVENTSTORE_URL not set: the KurrentDB suite runs in the production-stack CI")
		return
	}
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		s, err := New(Config{URL: url}, quietLogger())
		if err != nil {
			t.Fatalf("esdbstore.New: %v", err)
		}
		t.Cleanup(s.Close)
		return s
	})
}
