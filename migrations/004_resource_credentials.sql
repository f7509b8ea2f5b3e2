-- Connection settings of Resources (url, auth token), sealed with AES-256-GCM; never in status.
-- `version` increases on every rotation so dependants can tell they are stale.
CREATE TABLE resource_credentials (
  resource_uid uuid PRIMARY KEY REFERENCES objects (uid) ON DELETE CASCADE,
  owner uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  version integer NOT NULL DEFAULT 1,
  sealed bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
