/** The expected failure of a tool call: its message is shown to the agent as is. */
import { Schema } from "effect"

/** `message` says what was wrong and what to do next; it never holds secrets or stack traces. */
export class ToolError extends Schema.TaggedError<ToolError>()("ToolError", {
  message: Schema.String
}) {}
