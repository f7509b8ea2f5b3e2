-- The newest push applied per repository and branch. GitHub does not promise delivery order, so
-- a push older than the one already applied (by repository.pushed_at) must not roll Apps back;
-- this also makes an old signed delivery, replayed long after, harmless.
CREATE TABLE github_branch_heads (
  repo_full_name text NOT NULL CHECK (repo_full_name = lower(repo_full_name)),
  branch text NOT NULL,
  pushed_at bigint NOT NULL,
  sha text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo_full_name, branch)
);
