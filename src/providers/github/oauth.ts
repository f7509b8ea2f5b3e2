/**
 * GitHub's OAuth web flow with PKCE: the authorize URL and the code exchange.
 *
 * Octokit's OAuth helpers (`@octokit/oauth-methods`) neither send
 * `code_challenge` nor `code_verifier`, so these two steps are written here;
 * the exchange still goes through Octokit's request machinery.
 */
import { Effect, Schema } from "effect";
import { GitHubOAuthRejected } from "./errors.ts";

export interface AuthorizeUrlInput {
  readonly state: string;
  /** BASE64URL(SHA-256(code_verifier)), 43 characters; GitHub only supports the S256 method. */
  readonly codeChallenge: string;
  readonly redirectUri: string;
  /** OAuth scopes, e.g. ["repo"]; empty for read-only public access. */
  readonly scopes: ReadonlyArray<string>;
}

export const authorizeUrl = (webUrl: string, clientId: string, input: AuthorizeUrlInput): string => {
  const url = new URL(`${webUrl}/login/oauth/authorize`);
  url.searchParams.set("client_id", clientId);
  url.searchParams.set("redirect_uri", input.redirectUri);
  url.searchParams.set("state", input.state);
  if (input.scopes.length > 0) url.searchParams.set("scope", input.scopes.join(" "));
  url.searchParams.set("code_challenge", input.codeChallenge);
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
};

/** GitHub answers the exchange with 200 either way: a token, or `{error, error_description}`. */
export const TokenAnswer = Schema.Union([
  Schema.Struct({ access_token: Schema.String, scope: Schema.String, token_type: Schema.String }),
  Schema.Struct({ error: Schema.String, error_description: Schema.optional(Schema.String) }),
]);

export interface ExchangedToken {
  readonly accessToken: string;
  /** The scopes GitHub granted, which may be fewer than asked for (the user can deselect). */
  readonly scopes: ReadonlyArray<string>;
}

/** What to tell a person for each error code GitHub documents for the exchange. */
const advice: Readonly<Record<string, string>> = {
  bad_verification_code: "The sign-in code is wrong, expired or already used. Start the sign-in again at /auth/github.",
  invalid_grant: "The sign-in could not be verified (PKCE code verifier mismatch). Start the sign-in again at /auth/github.",
  incorrect_client_credentials: "GitHub rejected the OAuth client id or secret: check GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET.",
  redirect_uri_mismatch: "The callback URL is not the one registered with the GitHub App: check PUBLIC_URL and the App's callback URL.",
};

export const parseScopes = (raw: string | undefined): ReadonlyArray<string> =>
  (raw ?? "")
    .split(/[\s,]+/)
    .map((scope) => scope.trim())
    .filter((scope) => scope !== "");

/** Reads GitHub's answer to the exchange into a token or a GitHubOAuthRejected. */
export const readTokenAnswer = (body: unknown): Effect.Effect<ExchangedToken, GitHubOAuthRejected> =>
  Schema.decodeUnknownEffect(TokenAnswer)(body).pipe(
    Effect.mapError(
      (issue) => new GitHubOAuthRejected({ error: "unexpected_answer", message: `GitHub's answer to the sign-in code exchange was not understood: ${issue.message}` }),
    ),
    Effect.flatMap((answer) =>
      "error" in answer
        ? Effect.fail(
            new GitHubOAuthRejected({
              error: answer.error,
              message: advice[answer.error] ?? `GitHub refused the sign-in: ${answer.error_description ?? answer.error}. Start the sign-in again at /auth/github.`,
            }),
          )
        : Effect.succeed({ accessToken: answer.access_token, scopes: parseScopes(answer.scope) }),
    ),
  );
