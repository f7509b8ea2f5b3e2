-- Which App serves which host name. App names are per owner and project, but `<name>.<suffix>`
-- and custom domains are one namespace for everyone on the server: the first App to claim a host
-- keeps it, and another tenant's App of the same name is refused (HostTaken) instead of taking
-- its traffic. A claim goes with its App's row.
CREATE TABLE app_host_claims (
  host text PRIMARY KEY,
  app_uid uuid NOT NULL REFERENCES objects (uid) ON DELETE CASCADE,
  claimed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_host_claims_app ON app_host_claims (app_uid);
