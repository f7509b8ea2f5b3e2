-- API keys for /mcp (DESIGN.md §6): only an argon2id hash of the key is stored; `prefix` is the
-- short plain part shown in listings and used to find the row to verify against.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  prefix text NOT NULL UNIQUE,
  hash text NOT NULL,
  name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

-- Every replica caches verified keys for a few seconds; a revocation (or a deleted key or user)
-- is announced so each replica drops the key from its cache at once instead of at expiry.
CREATE FUNCTION notify_api_key_change() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('api_key_changes', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER api_keys_revoked
  AFTER UPDATE OF revoked_at ON api_keys
  FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
  EXECUTE FUNCTION notify_api_key_change();

CREATE TRIGGER api_keys_deleted
  AFTER DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION notify_api_key_change();
