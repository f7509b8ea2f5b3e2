-- The configuration every kind's objects were last reconciled under (a digest, never the values):
-- a replica that starts with a different one reconciles every object of the kind at once, so no
-- condition keeps describing the configuration from before the restart.
CREATE TABLE engine_config (
  kind text PRIMARY KEY,
  fingerprint text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);
