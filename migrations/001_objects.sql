-- Users (tenants), desired-state objects and their events (DESIGN.md §2).

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  login text NOT NULL UNIQUE,
  github_id bigint UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Host objects belong to the platform, represented by this fixed user.
INSERT INTO users (id, login) VALUES ('00000000-0000-0000-0000-000000000000', 'platform');

CREATE TABLE objects (
  uid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('App', 'Resource', 'Host')),
  owner uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  project text NOT NULL DEFAULT 'default',
  name text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  generation bigint NOT NULL DEFAULT 1,
  resource_version bigint NOT NULL DEFAULT 1,
  spec jsonb NOT NULL,
  -- Spec fields that hold secrets (App env values), AES-256-GCM encrypted by the store.
  spec_secrets bytea,
  status jsonb NOT NULL DEFAULT '{}'::jsonb,
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  annotations jsonb NOT NULL DEFAULT '{}'::jsonb,
  finalizers text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deletion_timestamp timestamptz,
  CONSTRAINT objects_name_unique UNIQUE (owner, project, kind, name)
);

CREATE INDEX objects_owner_kind ON objects (owner, kind, project, name);
CREATE INDEX objects_kind ON objects (kind);

CREATE TABLE events (
  id bigserial PRIMARY KEY,
  object_uid uuid NOT NULL REFERENCES objects (uid) ON DELETE CASCADE,
  owner uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type text NOT NULL CHECK (type IN ('Normal', 'Warning')),
  reason text NOT NULL,
  message text NOT NULL,
  count integer NOT NULL DEFAULT 1,
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_dedup UNIQUE (object_uid, type, reason, message)
);

CREATE INDEX events_owner_object ON events (owner, object_uid, last_seen DESC);
