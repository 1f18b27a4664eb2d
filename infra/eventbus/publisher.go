package eventbus

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/hustmusik/backend/infra/eventstore"
)

// Metadata keys the Publisher maps onto the event instead of Metadata.Extra.
const (
	// MetaEventType names the event's type; DefaultEventType when absent.
	MetaEventType = "event_type"
	// MetaActorID, MetaCorrelationID, MetaCausationID, MetaRequestID and
	// MetaSource fill the eventstore.Metadata fields of the same names.
	MetaActorID       = "actor_id"
	MetaCorrelationID = "correlation_id"
	MetaCausationID   = "causation_id"
	MetaRequestID     = "request_id"
	MetaSource        = "source"
	// MetaSchemaVersion is the event's schema version (default 1).
	MetaSchemaVersion = "schema_version"
)

// Keys kept in Metadata.Extra so that a message survives the trip through
// the log byte for byte. They never reach a subscriber's message metadata.
const (
	// extraPayloadEncoding is "base64" when the payload was not JSON: the
	// log's data column holds JSON only, so such a payload travels as a
	// base64 JSON string and is decoded again on delivery.
	extraPayloadEncoding = "watermill_payload_encoding"
	// extraUUID is the message's UUID (any string, for Watermill); the
	// event id is derived from it and the topic.
	extraUUID = "watermill_uuid"
)

// DefaultEventType is the type of an event published without MetaEventType.
const DefaultEventType = "WatermillMessage"

// messageNamespace derives event ids from topics and message UUIDs.
var messageNamespace = uuid.MustParse("8f0f7c55-8f6e-4b7a-9d0e-4d7b3c1d2a10")

// PublisherConfig tunes the Publisher.
type PublisherConfig struct {
	// DefaultEventType is the type of an event whose message has no
	// MetaEventType (default DefaultEventType).
	DefaultEventType string
}

func (c *PublisherConfig) setDefaults() {
	if c.DefaultEventType == "" {
		c.DefaultEventType = DefaultEventType
	}
}

// Validate reports every problem of the config at once.
func (c PublisherConfig) Validate() error {
	var errs []error
	if len(c.DefaultEventType) > 200 {
		errs = append(errs, errors.New("eventbus: DefaultEventType is longer than 200 bytes"))
	}
	return errors.Join(errs...)
}

// Publisher is a Watermill message.Publisher over an eventstore.Store:
// Publish(topic, msgs...) appends the messages, in one all-or-nothing
// append, as events at the end of the stream named topic. The event id is
// derived from the topic and the message UUID, so publishing the same
// message twice to a topic appends it once.
type Publisher struct {
	cfg    PublisherConfig
	store  eventstore.Store
	mu     sync.RWMutex
	closed bool
}

var _ message.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher appending to store.
func NewPublisher(cfg PublisherConfig, store eventstore.Store) (*Publisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("eventbus: store is required")
	}
	return &Publisher{cfg: cfg, store: store}, nil
}

// Publish appends msgs to the stream topic. The first message's context
// bounds the append.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errors.New("eventbus: publisher is closed")
	}
	if topic == "" {
		return errors.New("eventbus: publish: topic is required")
	}
	if len(msgs) == 0 {
		return nil
	}
	events := make([]eventstore.EventData, len(msgs))
	for i, msg := range msgs {
		e, err := p.eventOf(topic, msg)
		if err != nil {
			return fmt.Errorf("eventbus: publish to %q: message %s: %w", topic, msg.UUID, err)
		}
		events[i] = e
	}
	if _, err := p.store.Append(msgs[0].Context(), topic, eventstore.Any(), events...); err != nil {
		return fmt.Errorf("eventbus: publish %d messages to %q: %w", len(msgs), topic, err)
	}
	return nil
}

func (p *Publisher) eventOf(topic string, msg *message.Message) (eventstore.EventData, error) {
	md := eventstore.Metadata{OccurredAt: time.Now().UTC(), SchemaVersion: 1}
	typ := p.cfg.DefaultEventType
	extra := map[string]string{}
	for k, v := range msg.Metadata {
		switch k {
		case MetaEventType:
			if v != "" {
				typ = v
			}
		case MetaActorID:
			md.ActorID = v
		case MetaCorrelationID:
			md.CorrelationID = v
		case MetaCausationID:
			md.CausationID = v
		case MetaRequestID:
			md.RequestID = v
		case MetaSource:
			md.Source = v
		case MetaSchemaVersion:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return eventstore.EventData{}, fmt.Errorf("metadata %s=%q is not a positive integer", k, v)
			}
			md.SchemaVersion = n
		case extraPayloadEncoding, extraUUID:
			return eventstore.EventData{}, fmt.Errorf("metadata key %q is reserved", k)
		default:
			extra[k] = v
		}
	}
	// Event ids are unique across the whole log, while one message may be
	// published to several topics: the id is derived from both, so that a
	// message published twice to one topic is appended once.
	id := uuid.NewSHA1(messageNamespace, []byte(topic+"\x00"+msg.UUID))
	extra[extraUUID] = msg.UUID
	data := json.RawMessage(msg.Payload)
	if len(msg.Payload) == 0 || !json.Valid(msg.Payload) {
		enc, _ := json.Marshal(base64.StdEncoding.EncodeToString(msg.Payload))
		data = enc
		extra[extraPayloadEncoding] = "base64"
	}
	if len(extra) > 0 {
		md.Extra = extra
	}
	return eventstore.EventData{ID: id, Type: typ, Data: data, Metadata: md}, nil
}

// Close makes later Publish calls fail; the store stays open (it is not the
// publisher's).
func (p *Publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// StreamSubscriber is the Publisher's counterpart: Subscribe(ctx, topic)
// delivers every event of the stream named topic, from its first, one event
// per message (UUID, payload and metadata as published), the next only
// after the previous was acked; a nacked message comes again. It keeps no
// offsets: every subscription starts at the stream's beginning (Watermill's
// "new subscriber receives old messages"), and there are no consumer groups.
// The projection runtime uses Subscriber (batches, checkpoints), not this.
type StreamSubscriber struct {
	lifetime
}

var _ message.Subscriber = (*StreamSubscriber)(nil)

// NewStreamSubscriber returns a StreamSubscriber reading store.
// It takes the Subscriber's Config: BatchSize is then how many events are
// read from the log at once, each still delivered as its own message.
func NewStreamSubscriber(cfg Config, store eventstore.Store, logger watermill.LoggerAdapter) (*StreamSubscriber, error) {
	s := &StreamSubscriber{}
	if err := s.init(cfg, store, logger); err != nil {
		return nil, err
	}
	return s, nil
}

// Subscribe follows the stream topic until ctx ends or the subscriber is
// closed; then the channel is closed.
func (s *StreamSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic == "" {
		return nil, errors.New("eventbus: subscribe: topic is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("eventbus: subscriber is closed")
	}
	return s.launch(ctx, func(ctx context.Context, out chan<- *message.Message) { s.run(ctx, topic, out) }), nil
}

func (s *StreamSubscriber) run(ctx context.Context, topic string, out chan<- *message.Message) {
	log := s.logger.With(watermill.LogFields{"topic": topic})
	// after is the position of the last acked event: a restarted
	// subscription goes on from there.
	var after uint64
	for ctx.Err() == nil {
		sub, err := s.store.Subscribe(ctx, after, eventstore.Filter{StreamPrefixes: []string{topic}}, s.cfg.BatchSize)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("Cannot subscribe to the stream, trying again", err, nil)
			sleep(ctx, s.cfg.RestartDelay)
			continue
		}
		for batch := range sub.Batches() {
			for _, e := range batch.Events {
				// The filter is a prefix: "a" also matches stream "ab".
				if e.StreamID != topic {
					continue
				}
				msg, err := messageOf(e)
				if err != nil {
					// A foreign event in the stream cannot become a message;
					// skipping it silently would hide a bug, so stop here.
					log.Error("Event cannot be delivered as a message", err, watermill.LogFields{"position": e.Position})
					drain(sub)
					return
				}
				if !s.deliver(ctx, out, msg) {
					drain(sub)
					return
				}
				after = e.Position
			}
		}
		if err := sub.Err(); err != nil && ctx.Err() == nil {
			log.Error("Stream subscription failed, restarting it", err, watermill.LogFields{"after": after})
			sleep(ctx, s.cfg.RestartDelay)
		}
	}
}

// deliver hands msg over and waits for its Ack, handing a copy over again
// after each Nack. It reports false when ctx ended first.
func (s *StreamSubscriber) deliver(ctx context.Context, out chan<- *message.Message, msg *message.Message) bool {
	for {
		m := msg.Copy()
		mctx, cancel := context.WithCancel(ctx)
		m.SetContext(mctx)
		select {
		case out <- m:
		case <-ctx.Done():
			cancel()
			return false
		}
		var acked bool
		select {
		case <-m.Acked():
			acked = true
		case <-m.Nacked():
		case <-ctx.Done():
		}
		// The message's context ends with its delivery: a handler still
		// holding it learns that it is done with.
		cancel()
		if acked {
			return true
		}
		if ctx.Err() != nil || !sleep(ctx, s.cfg.NackDelay) {
			return false
		}
	}
}

// messageOf turns a published event back into its message.
func messageOf(e eventstore.RecordedEvent) (*message.Message, error) {
	id := e.ID.String()
	payload := []byte(e.Data)
	md := message.Metadata{MetaEventType: e.Type}
	if e.Metadata.SchemaVersion != 0 {
		md[MetaSchemaVersion] = strconv.Itoa(e.Metadata.SchemaVersion)
	}
	for k, v := range map[string]string{MetaActorID: e.Metadata.ActorID, MetaCorrelationID: e.Metadata.CorrelationID,
		MetaCausationID: e.Metadata.CausationID, MetaRequestID: e.Metadata.RequestID, MetaSource: e.Metadata.Source} {
		if v != "" {
			md[k] = v
		}
	}
	for k, v := range e.Metadata.Extra {
		switch k {
		case extraUUID:
			id = v
		case extraPayloadEncoding:
			if v != "base64" {
				return nil, fmt.Errorf("unknown payload encoding %q", v)
			}
			var s string
			if err := json.Unmarshal(e.Data, &s); err != nil {
				return nil, fmt.Errorf("base64 payload: %w", err)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("base64 payload: %w", err)
			}
			payload = b
		default:
			md[k] = v
		}
	}
	msg := message.NewMessage(id, payload)
	msg.Metadata = md
	return msg, nil
}
