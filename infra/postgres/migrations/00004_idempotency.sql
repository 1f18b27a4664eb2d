-- +goose Up
-- Answers to POSTs sent with an Idempotency-Key, so that a retry gets the
-- first answer instead of running the command twice. Rows expire after 24h.
CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,            -- user id, or 'anon:' || client ip
    key          text        NOT NULL,            -- the client's Idempotency-Key
    method       text        NOT NULL,
    path         text        NOT NULL,            -- path and query of the first request
    request_hash bytea       NOT NULL,            -- SHA-256 of the first request's body
    completed    boolean     NOT NULL DEFAULT false,
    status       integer,
    headers      jsonb,                           -- the answer headers worth replaying
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE IF EXISTS idempotency_keys;
