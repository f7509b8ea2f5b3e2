-- Every GitHub webhook delivery we acted on, by X-GitHub-Delivery: recorded in the same
-- transaction as its effects, so a redelivery or replay of the same id is a no-op.
CREATE TABLE github_webhook_deliveries (
  delivery_id text PRIMARY KEY,
  event text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX github_webhook_deliveries_received ON github_webhook_deliveries (received_at);

-- Push webhooks find every App that tracks a repository and branch, across tenants.
CREATE INDEX objects_app_repo_branch ON objects (lower(spec->>'repo'), (spec->>'branch')) WHERE kind = 'App';
