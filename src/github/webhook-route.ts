/**
 * POST /webhooks/github. The signature (X-Hub-Signature-256, HMAC-SHA256 of the exact body with
 * GITHUB_WEBHOOK_SECRET) is verified by @octokit/webhooks before anything is parsed or written,
 * so the route keeps the raw bytes: its own content-type parser hands the body over as a Buffer.
 *
 * Answers: missing/bad signature → 401; body over 25 MiB (GitHub's own cap) → 413; not JSON →
 * 400/415; a payload that is not the event's shape → 400; events we do not act on → 204.
 */
import { Webhooks } from "@octokit/webhooks"
import { Cause, Exit } from "effect"
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify"
import type { GitHubSurface } from "./surface.ts"
import { handleGitHubWebhook, WebhookPayloadInvalid } from "./webhook-handler.ts"

export const WEBHOOK_PATH = "/webhooks/github"
/** GitHub caps webhook payloads at 25 MB and drops larger ones; nothing bigger is genuine. */
export const WEBHOOK_BODY_LIMIT_BYTES = 25 * 1024 * 1024

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return typeof value === "string" && value !== "" ? value : undefined
}

const verifySignature = async (webhooks: Webhooks, body: Buffer, signature: string): Promise<boolean> => {
  if (body.length === 0) return false
  try {
    return await webhooks.verify(body.toString("utf8"), signature)
  } catch {
    return false
  }
}

export const registerGitHubWebhookRoute = (app: FastifyInstance, surface: GitHubSurface): void => {
  const { config, logger } = surface.context
  const secret = config.GITHUB_WEBHOOK_SECRET
  if (secret === undefined) {
    logger.warn(`GITHUB_WEBHOOK_SECRET is not set: ${WEBHOOK_PATH} is not served (GitHub webhooks are refused without a secret to verify them)`)
    return
  }
  const webhooks = new Webhooks({ secret })

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const signature = header(request, "x-hub-signature-256")
    if (signature === undefined) return reply.code(401).send({ error: "X-Hub-Signature-256 is missing: webhooks must be signed with the App's webhook secret." })
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    if (!(await verifySignature(webhooks, body, signature))) {
      request.log.warn({ delivery: header(request, "x-github-delivery") }, "GitHub webhook refused: bad signature")
      return reply.code(401).send({ error: "X-Hub-Signature-256 does not match the body: check the webhook secret." })
    }
    const deliveryId = header(request, "x-github-delivery")
    const event = header(request, "x-github-event")
    if (deliveryId === undefined || event === undefined) {
      return reply.code(400).send({ error: "X-GitHub-Delivery and X-GitHub-Event headers are required." })
    }
    let payload: unknown
    try {
      payload = JSON.parse(body.toString("utf8"))
    } catch {
      return reply.code(400).send({ error: "The body is not valid JSON." })
    }
    const exit = await surface.runtime.runPromiseExit(handleGitHubWebhook({ id: deliveryId, event, payload }))
    if (Exit.isSuccess(exit)) {
      const outcome = exit.value
      return outcome.status === 204 ? reply.code(204).send() : reply.code(outcome.status).send(outcome.body ?? {})
    }
    const error = Cause.squash(exit.cause)
    if (error instanceof WebhookPayloadInvalid) return reply.code(400).send({ error: error.message })
    // Nothing was committed (the transaction rolled back); GitHub's redelivery can try again.
    request.log.error({ err: error, correlationId: request.id, delivery: deliveryId, event }, "GitHub webhook failed")
    return reply.code(500).send({ error: `Internal error; quote correlation id ${request.id} when reporting it.` })
  }

  void app.register(async (scope) => {
    // Only this route: the raw bytes are what the signature covers.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => done(null, body))
    scope.post(WEBHOOK_PATH, { bodyLimit: WEBHOOK_BODY_LIMIT_BYTES }, handle)
  })
  logger.info(`GitHub webhooks are served at ${WEBHOOK_PATH}`)
}
