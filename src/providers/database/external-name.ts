/**
 * What an external database name may look like: the strictest rule among the
 * providers, so a name valid for one is valid for all. Turso allows lowercase
 * letters, digits and dashes, at most 64 characters; local files use the name
 * as a file name, so nothing else (no dots, no slashes) may get through.
 */
import { Effect } from "effect";
import { ProviderInvalid } from "./errors.ts";

const EXTERNAL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export const checkExternalName = (provider: string, operation: string, externalName: string): Effect.Effect<string, ProviderInvalid> =>
  EXTERNAL_NAME.test(externalName)
    ? Effect.succeed(externalName)
    : Effect.fail(
        new ProviderInvalid({
          provider,
          operation,
          message: `"${externalName}" is not a valid database name: use 1-64 lowercase letters, digits and dashes, starting and ending with a letter or digit`,
        }),
      );
