/** Typed store errors; messages are written for the agent or operator who reads them. */
import { Schema } from "effect"

export class ObjectNotFound extends Schema.TaggedError<ObjectNotFound>()("ObjectNotFound", {
  kind: Schema.String,
  project: Schema.String,
  name: Schema.String,
  message: Schema.String
}) {}

export class NameTaken extends Schema.TaggedError<NameTaken>()("NameTaken", {
  kind: Schema.String,
  project: Schema.String,
  name: Schema.String,
  message: Schema.String
}) {}

/** A conditional write lost the race: someone else wrote the object since it was read. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  uid: Schema.String,
  expected: Schema.Number,
  message: Schema.String
}) {}

export class InvalidSpec extends Schema.TaggedError<InvalidSpec>()("InvalidSpec", {
  kind: Schema.String,
  message: Schema.String
}) {}
