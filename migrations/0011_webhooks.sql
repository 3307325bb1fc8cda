-- Webhook endpoints (WebhookStore.swift) and where each one's delivery stands. Each endpoint is
-- sent the feed's entries in feed order, one at a time: `after_txid`/`after_id` is the last entry
-- it acknowledged, so delivery resumes there after a failure, a restart or a move to another
-- server. Failures back off; an endpoint that has failed for longer than the server allows is
-- disabled and stays so until an operator enables it again.
-- App role (:"app_role"): the server's worker records deliveries and the admin commands manage
-- endpoints, so SELECT, INSERT, UPDATE, DELETE.

CREATE TABLE webhooks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url             text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    -- The signing key (Standard Webhooks: HMAC-SHA256), as its `whsec_` form.
    secret          text NOT NULL CHECK (secret ~ '^whsec_'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL,
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled')),
    after_txid      xid8 NOT NULL DEFAULT '0',
    after_id        bigint NOT NULL DEFAULT 0,
    delivered       bigint NOT NULL DEFAULT 0,
    last_success_at timestamptz,
    -- The failures since the last success: how many, since when, the latest, and when to retry.
    attempts        integer NOT NULL DEFAULT 0,
    failing_since   timestamptz,
    last_attempt_at timestamptz,
    last_error      text,
    retry_at        timestamptz,
    disabled_at     timestamptz
);

GRANT SELECT, INSERT, UPDATE, DELETE ON webhooks TO :"app_role";
