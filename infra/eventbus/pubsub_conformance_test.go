package eventbus_test

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/hustmusik/backend/infra/eventbus"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

// TestPubSubConformance runs Watermill's own pub/sub suite, unchanged,
// against the Publisher and StreamSubscriber over the PostgreSQL event
// store. Every pub/sub pair a constructor call makes shares one database,
// as instances of one broker would.
//
// The features are what the pair really has: the log keeps every event
// (Persistent) in stream order (GuaranteedOrder), and a subscription keeps no
// offset, so every new subscriber reads a stream from its beginning
// (NewSubscriberReceivesOldMessages) and one that comes back sees acked
// messages again (not ExactlyOnceDelivery). There are no consumer groups,
// and message contexts are not carried through the log.
func TestPubSubConformance(t *testing.T) {
	pool := pgtest.New(t)
	store, err := pgstore.New(pgstore.Config{PollInterval: 20 * time.Millisecond}, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	constructor := func(t *testing.T) (message.Publisher, message.Subscriber) {
		pub, err := eventbus.NewPublisher(eventbus.PublisherConfig{}, store)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := eventbus.NewStreamSubscriber(eventbus.Config{NackDelay: 10 * time.Millisecond}, store, nil)
		if err != nil {
			t.Fatal(err)
		}
		return pub, sub
	}
	tests.TestPubSub(t, tests.Features{
		ConsumerGroups:                   false,
		ExactlyOnceDelivery:              false,
		GuaranteedOrder:                  true,
		Persistent:                       true,
		NewSubscriberReceivesOldMessages: true,
		ContextPreserved:                 false,
	}, constructor, nil)
}
