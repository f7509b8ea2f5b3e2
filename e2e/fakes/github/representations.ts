/**
 * The JSON GitHub sends for users, repositories, installations and tokens.
 *
 * GitHub's objects carry dozens of required URL fields. Rather than write them
 * out, each builder starts from the matching example in GitHub's own OpenAPI
 * description (`components.examples`), points its URLs at the fake and its
 * names at the fake's object, then sets the fields that carry meaning.
 */
import { isJsonObject } from "../../../src/providers/openapi/index.ts";
import type { JsonObject } from "../../../src/providers/openapi/index.ts";
import { gitHubOpenApi } from "./openapi.ts";
import type { FakeAccount, FakeInstallation, FakeInstallationToken, FakeRepo, GitHubFakeState } from "./state.ts";

export interface FakeUrls {
  /** Web base, e.g. http://127.0.0.1:1234 (stands for https://github.com). */
  readonly web: string;
  /** API base, e.g. http://127.0.0.1:1235 (stands for https://api.github.com). */
  readonly api: string;
}

const example = (name: string, pick: (value: JsonObject) => unknown = (value) => value): JsonObject => {
  const examples = gitHubOpenApi().document["components"];
  const entry = isJsonObject(examples) && isJsonObject(examples["examples"]) ? examples["examples"][name] : undefined;
  const picked = isJsonObject(entry) && isJsonObject(entry["value"]) ? pick(entry["value"]) : undefined;
  if (!isJsonObject(picked)) throw new Error(`GitHub fake: the OpenAPI description has no usable example "${name}"`);
  return structuredClone(picked);
};

/** Rewrites every string in `value`: example hosts → the fake's, example names → ours. */
const retarget = (value: unknown, urls: FakeUrls, names: ReadonlyArray<readonly [string, string]>): unknown => {
  if (typeof value === "string") {
    let out = value.replaceAll("https://api.github.com", urls.api).replaceAll("https://github.com", urls.web);
    for (const [from, to] of names) out = out.replaceAll(from, to);
    return out;
  }
  if (Array.isArray(value)) return value.map((item) => retarget(item, urls, names));
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, retarget(v, urls, names)]));
  return value;
};

/** GitHub's legacy global node ids: base64 of "<length of type>:<Type><id>". */
const nodeId = (type: string, id: number): string => Buffer.from(`0${type.length}:${type}${id}`).toString("base64");

export const simpleUser = (urls: FakeUrls, account: FakeAccount): JsonObject => {
  const base = example("private-user");
  const user = retarget(base, urls, [["octocat", account.login]]) as JsonObject;
  return {
    login: account.login,
    id: account.id,
    node_id: nodeId(account.type, account.id),
    avatar_url: `${urls.web}/avatars/${account.login}`,
    gravatar_id: "",
    url: user["url"],
    html_url: user["html_url"],
    followers_url: user["followers_url"],
    following_url: user["following_url"],
    gists_url: user["gists_url"],
    starred_url: user["starred_url"],
    subscriptions_url: user["subscriptions_url"],
    organizations_url: user["organizations_url"],
    repos_url: user["repos_url"],
    events_url: user["events_url"],
    received_events_url: user["received_events_url"],
    type: account.type,
    site_admin: false,
    user_view_type: "public",
  };
};

/** `GET /user`: the private view of the signed-in user. */
export const privateUser = (urls: FakeUrls, state: GitHubFakeState, account: FakeAccount): JsonObject => {
  const base = retarget(example("private-user"), urls, [["octocat", account.login]]) as JsonObject;
  const repos = state.reposOf(account.login);
  const privateRepos = repos.filter((repo) => repo.private).length;
  return {
    ...base,
    ...simpleUser(urls, account),
    user_view_type: "private",
    name: account.name,
    email: account.email,
    company: null,
    blog: "",
    location: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: repos.length - privateRepos,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: account.createdAt,
    updated_at: account.createdAt,
    private_gists: 0,
    total_private_repos: privateRepos,
    owned_private_repos: privateRepos,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  };
};

const repoNames = (repo: FakeRepo): ReadonlyArray<readonly [string, string]> => [
  ["octocat/Hello-World", `${repo.ownerLogin}/${repo.name}`],
  ["octocat", repo.ownerLogin],
  ["Hello-World", repo.name],
];

const repoFields = (urls: FakeUrls, state: GitHubFakeState, repo: FakeRepo): JsonObject => {
  const owner = state.account(repo.ownerLogin);
  if (!owner) throw new Error(`GitHub fake: repository ${repo.name} has no owner account`);
  return {
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: `${repo.ownerLogin}/${repo.name}`,
    owner: simpleUser(urls, owner),
    private: repo.private,
    visibility: repo.private ? "private" : "public",
    description: repo.description,
    fork: false,
    homepage: null,
    language: null,
    mirror_url: null,
    license: null,
    template_repository: null,
    topics: [],
    default_branch: repo.defaultBranch,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    open_issues_count: 0,
    open_issues: 0,
    size: 0,
    is_template: false,
    archived: false,
    disabled: false,
    pushed_at: repo.createdAt,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
  };
};

/** The `repository` schema (lists, installation tokens). */
export const repository = (urls: FakeUrls, state: GitHubFakeState, repo: FakeRepo): JsonObject => {
  const base = retarget(example("repository-paginated-2", (value) => (value["repositories"] as Array<unknown>)[0]), urls, repoNames(repo)) as JsonObject;
  delete base["custom_properties"];
  delete base["temp_clone_token"];
  return { ...base, ...repoFields(urls, state, repo) };
};

/** The `full-repository` schema (`GET /repos/{owner}/{repo}`, `POST /user/repos`). */
export const fullRepository = (urls: FakeUrls, state: GitHubFakeState, repo: FakeRepo): JsonObject => {
  const base = retarget(example("full-repository"), urls, repoNames(repo)) as JsonObject;
  // Present only for organization-owned repositories and forks, which the fake does not model in detail.
  for (const field of ["organization", "parent", "source", "permissions", "temp_clone_token"]) delete base[field];
  return { ...base, ...repoFields(urls, state, repo), has_discussions: false, subscribers_count: 0, network_count: 0 };
};

export interface AppIdentity {
  readonly appId: number;
  readonly appSlug: string;
}

/** The `installation` schema. */
export const installation = (urls: FakeUrls, state: GitHubFakeState, app: AppIdentity, value: FakeInstallation): JsonObject => {
  const account = state.account(value.accountLogin);
  if (!account) throw new Error(`GitHub fake: installation ${value.id} has no account`);
  const base = retarget(example("base-installation"), urls, []) as JsonObject;
  return {
    ...base,
    id: value.id,
    account: simpleUser(urls, account),
    access_tokens_url: `${urls.api}/app/installations/${value.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url:
      account.type === "Organization"
        ? `${urls.web}/organizations/${account.login}/settings/installations/${value.id}`
        : `${urls.web}/settings/installations/${value.id}`,
    app_id: app.appId,
    app_slug: app.appSlug,
    target_id: account.id,
    target_type: account.type,
    permissions: { ...value.permissions },
    events: ["push", "installation"],
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    repository_selection: value.repositorySelection,
    created_at: value.createdAt,
    updated_at: value.createdAt,
    suspended_at: null,
    suspended_by: null,
  };
};

/** The `installation-token` schema. */
export const installationToken = (urls: FakeUrls, state: GitHubFakeState, token: FakeInstallationToken, owner: FakeInstallation): JsonObject => {
  const restricted = token.repositoryNames !== "all";
  return {
    token: token.token,
    expires_at: token.expiresAt.toISOString().replace(/\.\d+Z$/, "Z"),
    permissions: { ...token.permissions },
    repository_selection: restricted || owner.repositorySelection === "selected" ? "selected" : "all",
    ...(restricted ? { repositories: state.reposForInstallationToken(token).map((repo) => repository(urls, state, repo)) } : {}),
  };
};
