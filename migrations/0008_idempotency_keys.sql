-- Idempotency keys (IdempotencyStore.swift): the first answer to a POST sent with an
-- `Idempotency-Key`, kept so that a retry with the same key from the same user gets it again and
-- changes nothing. A key, the change it made and its answer are written in one transaction.
-- Kept at least 24 hours; `serve` deletes older ones.
-- App role (:"app_role"): SELECT, INSERT, and DELETE for the sweep; never UPDATE: an answer once
-- given is not rewritten.

CREATE TABLE idempotency_keys (
    user_name    text NOT NULL,
    key          text NOT NULL CHECK (key ~ '^[!-~]{1,255}$'),
    -- SHA-256 of the request (method, target, the headers that change its meaning, body).
    fingerprint  bytea NOT NULL CHECK (octet_length(fingerprint) = 32),
    status       integer NOT NULL CHECK (status BETWEEN 200 AND 499),
    headers      jsonb NOT NULL,
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_name, key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

GRANT SELECT, INSERT, DELETE ON idempotency_keys TO :"app_role";
