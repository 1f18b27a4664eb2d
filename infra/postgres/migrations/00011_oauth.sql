-- +goose Up
-- Pending Google sign-ins, between GET /v1/auth/oauth and its callback. A
-- table rather than memory, so that the callback may reach another replica.
-- id is a hash of the state the browser carries; the PKCE verifier and the
-- nonce are sealed with a key derived from that state, so a copy of this
-- table alone cannot finish anyone's sign-in. A row is deleted when it is
-- used (single use) and is worthless after its time to live.
CREATE TABLE oauth_states (
    id         bytea PRIMARY KEY,
    sealed     bytea NOT NULL,
    return_url text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_states_created_idx ON oauth_states (created_at);

-- +goose Down
DROP TABLE oauth_states;
