-- Tokens may expire: expires_at is when a token stops working (NULL: never, until revoked).
-- authenticate compares it with the database's now(), the clock that set it.
-- App role (:"app_role"): api_tokens stays SELECT, INSERT, UPDATE; nothing new to grant.

ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
