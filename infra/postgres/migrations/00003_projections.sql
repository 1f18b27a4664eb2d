-- +goose Up
-- One row per projector: how far in the global log its read model is. The
-- runtime writes it in the same transaction as the read-model rows, so after a
-- crash a projector resumes exactly after what it committed.
CREATE TABLE projection_checkpoints (
    name       text PRIMARY KEY,
    position   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Events a projector could not apply even after retries. The checkpoint moved
-- past them (the projector goes on), so they are kept here with the error
-- rather than silently skipped; `hustmusik projections status` counts them.
CREATE TABLE parked_events (
    projector  text NOT NULL,
    position   bigint NOT NULL,
    event_id   uuid NOT NULL,
    stream_id  text NOT NULL,
    event_type text NOT NULL,
    error      text NOT NULL,
    attempts   int NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projector, position)
);

-- +goose Down
DROP TABLE IF EXISTS parked_events;
DROP TABLE IF EXISTS projection_checkpoints;
