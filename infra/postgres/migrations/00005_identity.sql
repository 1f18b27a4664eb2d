-- +goose Up
-- Credentials and refresh sessions are ordinary tables, not events: deleting
-- a user deletes them, and the log keeps only ids.
CREATE TABLE credentials (
    user_id        uuid PRIMARY KEY,
    email          text NOT NULL,
    password_hash  text,
    google_sub     text UNIQUE,
    email_verified boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX credentials_email_key ON credentials (lower(email));

-- A session is a family of refresh tokens: each renewal uses one up and
-- issues the next; presenting a used one again revokes the whole family.
CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES credentials (user_id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Read model of the "users" projector.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL,
    avatarurl     text NOT NULL DEFAULT '',
    country       text NOT NULL DEFAULT '',
    role          text NOT NULL,
    created_at    timestamptz NOT NULL,
    position      bigint NOT NULL
);
CREATE INDEX users_created_idx ON users (created_at, id);

-- +goose Down
DROP TABLE users;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE credentials;
