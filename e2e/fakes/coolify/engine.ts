/**
 * The passage of time in the Coolify fake. One `step` moves every deployment
 * one stage (queued → in_progress → … → finished | failed), finishes pending
 * deletions, and updates application status. Tests either call `step`
 * themselves (manual clock) or let a short real timer call it; either way they
 * wait on conditions, never on sleeps.
 */
import type { CoolifyFakeState, DeploymentStatus, FakeApplication, FakeDeployment } from "./state.ts";

export const TERMINAL_STATUSES: ReadonlySet<DeploymentStatus> = new Set(["finished", "failed", "cancelled-by-user"]);

export const isActive = (deployment: FakeDeployment): boolean =>
  deployment.status === "queued" || deployment.status === "in_progress";

const firstPort = (app: FakeApplication): number | undefined => {
  const first = String(app.fields["ports_exposes"] ?? "").split(",")[0];
  const port = Number(first);
  return first === "" || !Number.isInteger(port) ? undefined : port;
};

/** Whether the app would serve traffic once started: it listens on the port Coolify routes to. */
export const listensOnExposedPort = (state: CoolifyFakeState, app: FakeApplication): boolean => {
  const listening = state.sourceOf(app).listeningPort;
  return listening === undefined || listening === firstPort(app);
};

/** The status a started container reaches: healthy when it listens where traffic goes, crashed otherwise. */
export const startedStatus = (state: CoolifyFakeState, app: FakeApplication): string =>
  listensOnExposedPort(state, app) ? "running:healthy" : "exited:unhealthy";

export const appendLog = (state: CoolifyFakeState, deployment: FakeDeployment, output: string, type: "stdout" | "stderr" = "stdout"): void => {
  deployment.logs.push({
    command: null,
    output,
    type,
    timestamp: state.timestamp(),
    hidden: false,
    batch: 1,
    order: deployment.logs.length + 1,
  });
  deployment.updated_at = state.timestamp();
};

export interface CoolifyEngine {
  /** Advances the world by one step. */
  readonly step: () => void;
  /** Whether anything would still change with more steps (active deployments or pending deletions). */
  readonly busy: () => boolean;
}

export type QueueResult =
  | { readonly status: "queued"; readonly deployment: FakeDeployment }
  /** Coolify skips a deploy of a commit already queued or building, yet still hands out a (never stored) uuid. */
  | { readonly status: "skipped"; readonly deploymentUuid: string }
  | { readonly status: "queue_full" };

/** Coolify's queue_application_deployment: skip duplicates, refuse when the server's queue is full. */
export const queueDeployment = (
  state: CoolifyFakeState,
  app: FakeApplication,
  options: { readonly force: boolean; readonly restartOnly: boolean; readonly buildSteps: number },
): QueueResult => {
  const commit = options.restartOnly && app.runningCommit !== undefined ? app.runningCommit : state.commitFor(app);
  const duplicate = state.deployments.some((d) => d.applicationId === app.id && d.commit === commit && isActive(d));
  if (duplicate) return { status: "skipped", deploymentUuid: state.uuid() };
  const server = state.serverById(app.serverId);
  const queued = state.deployments.filter((d) => d.serverId === app.serverId && d.status === "queued").length;
  if (server && queued >= server.settings.deployment_queue_limit) return { status: "queue_full" };
  const created = state.timestamp();
  const deployment: FakeDeployment = {
    id: state.id(),
    uuid: state.uuid(),
    applicationId: app.id,
    serverId: app.serverId,
    commit,
    forceRebuild: options.force,
    restartOnly: options.restartOnly,
    status: "queued",
    stepsLeft: options.restartOnly ? 0 : options.buildSteps,
    logs: [],
    created_at: created,
    updated_at: created,
  };
  state.deployments.push(deployment);
  appendLog(state, deployment, `Deployment queued for ${String(app.fields["name"])}.`);
  return { status: "queued", deployment };
};

export const makeEngine = (state: CoolifyFakeState, isStuck: () => boolean): CoolifyEngine => {
  const finish = (deployment: FakeDeployment, app: FakeApplication | undefined): void => {
    const buildError = app && !deployment.restartOnly ? state.sourceOf(app).buildError : undefined;
    if (buildError !== undefined) {
      appendLog(state, deployment, buildError, "stderr");
      appendLog(state, deployment, "Deployment failed. Removing the new version of your application.", "stderr");
      deployment.status = "failed";
      return;
    }
    deployment.status = "finished";
    if (!app) return;
    app.runningCommit = deployment.commit;
    app.status = startedStatus(state, app);
    app.updated_at = state.timestamp();
    appendLog(state, deployment, "New container started.");
    if (!listensOnExposedPort(state, app)) {
      appendLog(state, deployment, `Container exited: nothing listens on port ${String(app.fields["ports_exposes"])}.`, "stderr");
    }
  };

  const advanceDeployment = (deployment: FakeDeployment): void => {
    const app = state.applicationById(deployment.applicationId);
    if (deployment.status !== "in_progress") return;
    if (deployment.stepsLeft > 0) {
      deployment.stepsLeft--;
      appendLog(state, deployment, deployment.restartOnly ? "Restarting container." : `Building docker image (${deployment.commit.slice(0, 7)}).`);
      return;
    }
    finish(deployment, app);
  };

  const startQueued = (): void => {
    if (isStuck()) return;
    for (const server of state.servers) {
      const onServer = state.deployments.filter((d) => d.serverId === server.id);
      let running = onServer.filter((d) => d.status === "in_progress").length;
      for (const deployment of onServer) {
        if (running >= server.settings.concurrent_builds) break;
        if (deployment.status !== "queued") continue;
        deployment.status = "in_progress";
        appendLog(state, deployment, `Starting deployment of ${deployment.commit}.`);
        running++;
      }
    }
  };

  const advanceDeletions = (): void => {
    for (const app of [...state.applications]) {
      if (!app.deletion) continue;
      if (--app.deletion.stepsLeft > 0) continue;
      state.applications.splice(state.applications.indexOf(app), 1);
      state.deletions.push({ uuid: app.uuid, options: app.deletion.options });
    }
  };

  const step = (): void => {
    // Advance what was already running before starting new builds, so a
    // deployment is seen in_progress for at least one step.
    for (const deployment of state.deployments) advanceDeployment(deployment);
    startQueued();
    advanceDeletions();
  };

  const busy = (): boolean =>
    state.applications.some((app) => app.deletion !== undefined) ||
    state.deployments.some((d) => d.status === "in_progress" || (d.status === "queued" && !isStuck()));

  return { step, busy };
};
