-- Which replica last resynced each kind (controllers/engine/resync.ts).
CREATE TABLE engine_resync (
  kind text PRIMARY KEY,
  last_run timestamptz NOT NULL
);
