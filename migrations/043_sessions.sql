-- Browser sessions of the dashboard. The cookie is a jose-signed JWT naming a row here, so
-- signing out (or expiry) ends a session for good even though the JWT itself is stateless.
CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);

CREATE INDEX sessions_user ON sessions (user_id);
