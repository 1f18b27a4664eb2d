-- +goose Up
-- The event log: the only source of truth. Positions are assigned by the
-- appender under a transaction-level advisory lock (see infra/eventstore/pgstore),
-- so they are gap-free and commit order equals position order.
CREATE TABLE events (
    position        bigint      PRIMARY KEY,
    stream_id       text        NOT NULL,
    stream_revision bigint      NOT NULL,
    event_id        uuid        NOT NULL UNIQUE,
    event_type      text        NOT NULL,
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    recorded_at     timestamptz NOT NULL,
    CONSTRAINT events_stream_revision_key UNIQUE (stream_id, stream_revision),
    CONSTRAINT events_position_positive CHECK (position > 0),
    CONSTRAINT events_revision_non_negative CHECK (stream_revision >= 0)
);

-- Filtered reads of the global log (a projector that follows a few event types).
CREATE INDEX events_type_position_idx ON events (event_type, position);

-- The current revision of every stream, for expected-revision checks.
CREATE TABLE streams (
    stream_id text   PRIMARY KEY,
    revision  bigint NOT NULL
);

-- The log is append-only: a changed or deleted event would silently fork
-- every read model rebuilt from it.
-- +goose StatementBegin
CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % refused', TG_OP
        USING HINT = 'append a compensating event instead';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- +goose Down
DROP TABLE IF EXISTS streams;
DROP TABLE IF EXISTS events;
DROP FUNCTION IF EXISTS events_refuse_change();
