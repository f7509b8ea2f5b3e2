/** The dashboard's pages: signed out (sign in), and signed in (GitHub, API keys, apps). */
import type { ApiKeyInfo, CreatedApiKey } from "../auth/api-key-store.ts"
import type { GitHubIdentity } from "../github/identity.ts"
import { CSRF_FIELD } from "../github/csrf.ts"
import type { StoredObject } from "../store/objects.ts"
import { repoLabel } from "../../schemas/index.ts"
import { html, page, type Html } from "./html.ts"

export const landingPage = (options: { readonly signInEnabled: boolean }): string =>
  page(
    "Sign in",
    html`<h1>Deploy MCP</h1>
<p>An MCP server through which your AI agent deploys apps from your GitHub repositories.</p>
${options.signInEnabled
  ? html`<p><a class="button" id="sign-in" href="/auth/github">Sign in with GitHub</a></p>`
  : html`<p class="notice">GitHub sign-in is not configured on this server (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET).</p>`}`
  )

export interface DashboardView {
  readonly login: string
  readonly csrf: string
  readonly baseUrl: string
  readonly identity: GitHubIdentity
  readonly canInstall: boolean
  readonly keys: ReadonlyArray<ApiKeyInfo>
  readonly apps: ReadonlyArray<StoredObject<"App">>
  /** Set right after a key was created: the only time it is shown. */
  readonly createdKey?: CreatedApiKey
  readonly notice?: string
}

const csrfField = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`

/** The exact command that connects Claude Code to this server with a key. */
export const claudeMcpAddLine = (baseUrl: string, key: string): string =>
  `claude mcp add --transport http deploy ${baseUrl}/mcp --header "Authorization: Bearer ${key}"`

const gitHubSection = (view: DashboardView): Html => {
  const { identity } = view
  const installations = identity.installations.map(
    (installation) =>
      html`<li>on <strong>${installation.account}</strong> (${installation.repositorySelection === "all" ? "all repositories" : "selected repositories"})${installation.suspended ? html` <span class="bad">suspended</span>` : ""}</li>`
  )
  return html`<h2>GitHub</h2>
<p>Signed in as <strong id="github-login">${identity.login ?? view.login}</strong>.</p>
<p id="app-status">GitHub App: ${identity.appInstalled
    ? html`<span class="ok">installed</span><ul>${installations}</ul>`
    : html`<span class="bad">not installed</span> — apps from private repositories wait for it.`}
${view.canInstall ? html` <a class="button" id="install-app" href="/auth/githubapp/install">${identity.appInstalled ? "Add an account or repositories" : "Install the GitHub App"}</a>` : ""}</p>
<p id="repo-scope">Repo scope (lets your agent create repositories): ${identity.repoScope
    ? html`<span class="ok">granted</span>`
    : html`<span class="muted">not granted</span> <a class="button" id="grant-repo-scope" href="/auth/github?scope=repo&amp;return_to=/dashboard">Grant repo scope</a>`}</p>`
}

const keysSection = (view: DashboardView): Html => {
  const created = view.createdKey
  const rows = view.keys.map(
    (key) => html`<tr><td>${key.name ?? ""}</td><td><code>${key.prefix}…</code></td><td>${key.createdAt.slice(0, 16).replace("T", " ")}</td>
<td>${key.lastUsedAt ? key.lastUsedAt.slice(0, 16).replace("T", " ") : "never"}</td>
<td>${key.revokedAt
      ? html`<span class="muted">revoked</span>`
      : html`<form class="inline" method="post" action="/dashboard/api-keys/revoke">${csrfField(view.csrf)}<input type="hidden" name="prefix" value="${key.prefix}"><button type="submit" data-revoke="${key.prefix}">Revoke</button></form>`}</td></tr>`
  )
  return html`<h2>API keys</h2>
${created
    ? html`<div class="notice" id="new-key"><p>Your new key — copy it now, it is not shown again:</p><pre id="api-key">${created.key}</pre>
<p>Connect Claude Code:</p><pre id="claude-mcp-add">${claudeMcpAddLine(view.baseUrl, created.key)}</pre></div>`
    : ""}
${view.keys.length > 0 ? html`<table id="api-keys"><tr><th>Name</th><th>Key</th><th>Created</th><th>Last used</th><th></th></tr>${rows}</table>` : html`<p class="muted">No keys yet.</p>`}
<form method="post" action="/dashboard/api-keys">${csrfField(view.csrf)}
<label>Name <input name="name" maxlength="100" placeholder="laptop"></label> <button type="submit" id="create-key">Create API key</button></form>`
}

const conditionList = (app: StoredObject<"App">): Html => {
  const conditions = app.status.conditions ?? []
  if (conditions.length === 0) return html`<span class="muted">waiting for the first reconcile</span>`
  return html`${conditions.map(
    (condition) =>
      html`<div><strong>${condition.type}</strong>=<span class="${condition.status === "True" ? "ok" : condition.status === "False" ? "bad" : "muted"}">${condition.status}</span> ${condition.reason}${condition.message ? html` — ${condition.message}` : ""}</div>`
  )}`
}

const appsSection = (view: DashboardView): Html =>
  html`<h2>Apps</h2>
${view.apps.length === 0
    ? html`<p class="muted">No apps yet. Ask your agent to deploy one.</p>`
    : html`<table id="apps"><tr><th>App</th><th>Repository</th><th>URL</th><th>Conditions</th></tr>${view.apps.map(
      (app) => html`<tr data-app="${app.metadata.name}"><td>${app.metadata.project === "default" ? "" : `${app.metadata.project}/`}${app.metadata.name}${app.metadata.deletionTimestamp ? html` <span class="muted">(deleting)</span>` : ""}</td>
<td>${repoLabel(app.spec.repo)}@${app.spec.branch}${app.spec.revision ? html` <code>${app.spec.revision.slice(0, 7)}</code>` : ""}</td>
<td>${app.status.url ? html`<a href="${app.status.url}">${app.status.url}</a>` : html`<span class="muted">none yet</span>`}</td>
<td>${conditionList(app)}</td></tr>`
    )}</table>`}`

export const dashboardPage = (view: DashboardView): string =>
  page(
    "Dashboard",
    html`<h1>Deploy MCP</h1>
<form class="inline" method="post" action="/auth/signout">${csrfField(view.csrf)}<button type="submit" id="sign-out">Sign out</button></form>
${view.notice ? html`<p class="notice" id="notice">${view.notice}</p>` : ""}
${gitHubSection(view)}
${keysSection(view)}
${appsSection(view)}`
  )
