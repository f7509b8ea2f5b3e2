/**
 * The page at `/` while GitHub sign-in is not configured (the embedded default): what this server
 * is, what it can do right now, and how to connect an agent — so every URL our messages name
 * answers with something useful instead of a 404.
 */
import type { ServerCapabilities } from "../mcp/capabilities.ts"
import { html, page } from "./html.ts"

export interface HomeView {
  readonly publicUrl: string
  readonly capabilities: ServerCapabilities
}

export const homePage = (view: HomeView): string => {
  const { capabilities } = view
  const runtime =
    capabilities.appRuntime === "local"
      ? html`Apps run on this machine (the local runtime), each sandboxed, at <code>http://&lt;name&gt;.localhost</code> on this server's port.`
      : html`Apps run on Coolify.`
  return page(
    "Deploy MCP",
    html`<h1>Deploy MCP</h1>
<p>An MCP server through which an AI agent deploys apps — repository, build, database, secrets, domain — with one call.</p>
<h2>Connect an agent</h2>
<ol>
<li>Create an API key on the server: <code>npm run -s cli -- apikey create --user &lt;login&gt; --create-user</code> (it prints only the key).</li>
<li>Add the server to your agent, e.g. Claude Code:<br><code id="mcp-add">claude mcp add --transport http deploy ${view.publicUrl}/mcp --header "Authorization: Bearer &lt;your key&gt;"</code></li>
<li>Ask it to call <code>whoami</code>, then <code>create_app</code>. An app created without <code>repo</code> deploys what you <code>git push</code> to <code>${view.publicUrl}/git/&lt;project&gt;/&lt;app&gt;.git</code> (the API key is the password).</li>
</ol>
<h2>This server</h2>
<ul>
<li id="runtime">${runtime} ${capabilities.canDeploy ? html`<span class="ok">Apps can deploy.</span>` : html`<span class="bad">Apps cannot deploy yet.</span>`}</li>
<li>Databases: ${capabilities.databaseProvider === "turso" ? "Turso" : "local libSQL files on this server"}.</li>
${capabilities.missing.map((sentence) => html`<li class="muted">${sentence}</li>`)}
</ul>
<p class="muted">Health: <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a>. GitHub sign-in and the dashboard appear here once the operator configures GitHub.</p>`
  )
}
