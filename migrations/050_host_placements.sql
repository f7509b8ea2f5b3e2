-- Placement decisions (controllers/host/placement.ts): which run Host each App was given.
-- Written under one advisory lock in the same transaction as the decision, so two apps placed at
-- once never both take a host's last free capacity (App.status.host is written later, after the
-- App controller has talked to the provider). A row with host NULL means "placement could not put
-- this app anywhere" and overrides a stale App.status.host. Rows go away with their App.
CREATE TABLE host_placements (
  app_uid uuid PRIMARY KEY REFERENCES objects (uid) ON DELETE CASCADE,
  host text,
  placed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX host_placements_host ON host_placements (host);
