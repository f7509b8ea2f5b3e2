/** Every MCP tool, in the order tools/list shows them. Add a tool: one file, one line here. */
import type { McpTool } from "../tool.ts"
import type { McpServices } from "../runtime.ts"
import { createApp } from "./create-app.ts"
import { createGitHubRepo } from "./create-github-repo.ts"
import { createResource } from "./create-resource.ts"
import { deleteApp } from "./delete-app.ts"
import { deleteResource } from "./delete-resource.ts"
import { getAppDetails } from "./get-app-details.ts"
import { getGitHubPushToken } from "./get-github-push-token.ts"
import { getResourceDetails } from "./get-resource-details.ts"
import { listApps } from "./list-apps.ts"
import { listResources } from "./list-resources.ts"
import { redeploy } from "./redeploy.ts"
import { updateApp } from "./update-app.ts"
import { whoami } from "./whoami.ts"

export const tools: ReadonlyArray<McpTool<McpServices>> = [
  whoami,
  createApp,
  updateApp,
  listApps,
  getAppDetails,
  redeploy,
  deleteApp,
  createResource,
  listResources,
  getResourceDetails,
  deleteResource,
  createGitHubRepo,
  getGitHubPushToken
]
