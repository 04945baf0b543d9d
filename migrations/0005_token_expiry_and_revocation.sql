-- Token expiry: a token may be made to expire (`vfiod token create --expires-in 30d`). Past `expires_at`
-- it is refused like a revoked one (401, with its own detail); NULL means it never expires. RFC 3339 UTC
-- text with milliseconds, like `created_at`, so the text order is the time order.
--
-- Revocation needs no new column (`revoked_at` is there since 0002): a running vfiod looks each request's
-- token up in this table, so a revocation committed by any process (the API, `vfiod token revoke`) is
-- seen by the next request. Creating and revoking a token are audited (`token.created`, `token.revoked`)
-- in the same transaction as the change.
ALTER TABLE tokens ADD COLUMN expires_at TEXT CHECK (expires_at IS NULL OR expires_at > created_at);
