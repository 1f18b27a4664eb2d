package eventbus_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/hustmusik/backend/infra/eventbus"
)

// TestPublisherAppendsEvents: a published message is an event of the
// stream named by the topic, typed by its metadata, with the JSON payload
// as its data; publishing it again appends nothing; a non-JSON payload and
// the metadata come back unchanged through the StreamSubscriber.
func TestPublisherAppendsEvents(t *testing.T) {
	store := newStore(t)
	pub, err := eventbus.NewPublisher(eventbus.PublisherConfig{}, store)
	if err != nil {
		t.Fatal(err)
	}
	stream := "song-" + watermill.NewUUID()
	added := message.NewMessage(watermill.NewUUID(), []byte(`{"song_id":"s1","title":"Lạc Trôi"}`))
	added.Metadata.Set(eventbus.MetaEventType, "SongAdded")
	added.Metadata.Set(eventbus.MetaRequestID, "req-1")
	raw := message.NewMessage("not-a-uuid", []byte{0xff, 0x00, 'x'})
	raw.Metadata.Set("trace", "t-1")
	if err := pub.Publish(stream, added, raw); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(stream, added); err != nil {
		t.Fatalf("republish: %v", err)
	}
	events, err := store.ReadStream(context.Background(), stream, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events, want 2 (the republished message appends nothing)", len(events))
	}
	var data map[string]string
	if err := json.Unmarshal(events[0].Data, &data); err != nil || data["title"] != "Lạc Trôi" {
		t.Fatalf("data %s: %v", events[0].Data, err)
	}
	if events[0].Type != "SongAdded" || events[0].Metadata.RequestID != "req-1" || events[1].Type != eventbus.DefaultEventType {
		t.Fatalf("events %+v", events)
	}

	sub, err := eventbus.NewStreamSubscriber(eventbus.Config{}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ch, err := sub.Subscribe(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	first, second := receive(t, ch), (*message.Message)(nil)
	first.Ack()
	second = receive(t, ch)
	second.Ack()
	if first.UUID != added.UUID || first.Metadata.Get(eventbus.MetaEventType) != "SongAdded" || first.Metadata.Get(eventbus.MetaRequestID) != "req-1" {
		t.Fatalf("first message %s %v", first.UUID, first.Metadata)
	}
	if second.UUID != "not-a-uuid" || string(second.Payload) != "\xff\x00x" || second.Metadata.Get("trace") != "t-1" {
		t.Fatalf("second message %s %q %v", second.UUID, second.Payload, second.Metadata)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(stream, added); err == nil {
		t.Fatal("publish after Close succeeded")
	}
}
