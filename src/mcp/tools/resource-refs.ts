/**
 * The order of App.spec.resourceRefs decides env var names (controllers/app/resources.ts): the
 * first resource also gets the unprefixed DATABASE_URL. update_app keeps that order stable, so an
 * agent that lists resources in another order, or adds one, does not move DATABASE_URL.
 */
import { envPrefix } from "../../../controllers/app/resources.ts"

/** Refs kept from `previous` in their old order, then the new ones in the order requested. */
export const orderedResourceRefs = (previous: ReadonlyArray<string>, requested: ReadonlyArray<string>): ReadonlyArray<string> => {
  const wanted = new Set(requested)
  const kept = previous.filter((name) => wanted.has(name))
  const known = new Set(kept)
  return [...kept, ...requested.filter((name) => !known.has(name))]
}

/** What an agent must be told when the unprefixed names now point to another resource, if anything. */
export const primaryResourceNotice = (previous: ReadonlyArray<string>, next: ReadonlyArray<string>): string | undefined => {
  const [before] = previous
  const [after] = next
  if (before === undefined || before === after) return undefined
  return after === undefined
    ? `DATABASE_URL is no longer set: '${before}' was the app's only resource.`
    : `DATABASE_URL now points to '${after}' (it was '${before}', which the app no longer uses); '${after}' is also in ${envPrefix(after)}DATABASE_URL.`
}
