-- The GitHub OAuth token of each signed-in user, sealed with AES-256-GCM (associated data binds
-- it to the user). `scopes` are what GitHub granted, kept in clear so "does this user have the
-- repo scope?" needs no decryption; the token itself never leaves the sealed column.
CREATE TABLE github_user_tokens (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  sealed bytea NOT NULL,
  scopes text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
