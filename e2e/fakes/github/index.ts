export { startGitHubFake } from "./fake.ts";
export type { FakeCall, FakeViolation, GitHubFake, GitHubFakeOptions } from "./fake.ts";
export type { FakeGitCall } from "./git.ts";
export { installationEvent, pushEvent, randomSha, sendWebhook } from "./webhooks.ts";
export type { InstallationEvent, InstallationEventInput, PushEventInput, SendWebhookInput, WebhookDelivery } from "./webhooks.ts";
export type { FakeAccount, FakeInstallation, FakeRepo, GitHubFakeState } from "./state.ts";
export { webhookPayloadIssues } from "./webhook-schema.ts";
