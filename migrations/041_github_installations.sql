-- Installations of the GitHub App, as GitHub confirmed them (the setup callback asks GitHub;
-- installation webhooks keep them current). Installation ids are never reused, so a deleted
-- installation stays deleted: a late or replayed `created` cannot bring it back.
CREATE TABLE github_installations (
  installation_id bigint PRIMARY KEY,
  account_login text NOT NULL,
  account_id bigint NOT NULL,
  account_type text NOT NULL,
  -- 'all' covers every repository of the account; 'selected' only those in github_installation_repos.
  repository_selection text NOT NULL CHECK (repository_selection IN ('all', 'selected')),
  suspended boolean NOT NULL DEFAULT false,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX github_installations_account ON github_installations (lower(account_login));

-- Repositories of a 'selected' installation (lower-cased "owner/name"), from installation webhooks.
CREATE TABLE github_installation_repos (
  installation_id bigint NOT NULL REFERENCES github_installations (installation_id) ON DELETE CASCADE,
  repo_full_name text NOT NULL CHECK (repo_full_name = lower(repo_full_name)),
  PRIMARY KEY (installation_id, repo_full_name)
);

-- Which tenants may use an installation: users GitHub lists it for (setup callback, sign-in),
-- the user who installed it and the user whose account it is on (installation webhooks).
CREATE TABLE github_installation_users (
  installation_id bigint NOT NULL REFERENCES github_installations (installation_id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (installation_id, user_id)
);

CREATE INDEX github_installation_users_user ON github_installation_users (user_id);
