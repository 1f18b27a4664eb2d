-- +goose Up
-- Read models of the "orders" projector: one row per payment order (to
-- authorise reads and to let the reconciler find pending work) and the
-- order's trail, one row per event, for auditors.
CREATE TABLE orders (
    app_trans_id    text PRIMARY KEY,
    user_id         uuid NOT NULL,
    amount          bigint NOT NULL,
    premium_days    integer NOT NULL DEFAULT 0,
    status          text NOT NULL,
    zp_trans_id     bigint,
    premium_granted boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    position        bigint NOT NULL
);
CREATE INDEX orders_pending_idx ON orders (created_at) WHERE status = 'pending';
CREATE INDEX orders_ungranted_idx ON orders (created_at)
    WHERE status = 'paid' AND premium_days > 0 AND NOT premium_granted;
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC);

CREATE TABLE order_events (
    position     bigint PRIMARY KEY,
    app_trans_id text NOT NULL,
    event_type   text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    actor_id     text NOT NULL DEFAULT '',
    source       text NOT NULL DEFAULT '',
    data         jsonb NOT NULL
);
CREATE INDEX order_events_order_idx ON order_events (app_trans_id, position);

-- Premium is part of the account: the "users" projector keeps its end.
ALTER TABLE users ADD COLUMN premium_until timestamptz;

-- +goose Down
ALTER TABLE users DROP COLUMN premium_until;
DROP TABLE order_events;
DROP TABLE orders;
