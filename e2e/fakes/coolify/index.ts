export { startCoolifyFake } from "./server.ts";
export type { CoolifyFake, CoolifyFakeOptions, ResponseViolation } from "./server.ts";
export { CoolifyFaults } from "./faults.ts";
export { CallLog } from "./calls.ts";
export type { RecordedCall } from "./calls.ts";
export { CoolifyFakeState } from "./state.ts";
export type {
  DeploymentStatus,
  FakeApplication,
  FakeDeployment,
  FakeEnvVar,
  FakeGithubApp,
  FakeProject,
  FakeServer,
  SourceBehaviour,
} from "./state.ts";
export { COOLIFY_BASE_PATH, coolifySpecPath } from "./spec.ts";
