import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Result } from "effect";
import { normalizeRepoRef } from "./repo-ref.ts";

const ok = (input: string, login = "alice", host?: string): string => {
  const result = normalizeRepoRef(input, login, host === undefined ? {} : { host });
  if (Result.isFailure(result)) assert.fail(`expected "${input}" to be accepted: ${result.failure.message}`);
  return result.success.fullName;
};

const rejected = (input: string): string => {
  const result = normalizeRepoRef(input, "alice");
  if (Result.isSuccess(result)) assert.fail(`expected "${input}" to be rejected, got ${result.success.fullName}`);
  assert.equal(result.failure._tag, "InvalidRepoRef");
  assert.equal(result.failure.input, input);
  return result.failure.message;
};

describe("normalizeRepoRef", () => {
  test("a bare name belongs to the signed-in user", () => {
    assert.equal(ok("my-saas"), "alice/my-saas");
    assert.equal(ok("  my-saas  "), "alice/my-saas");
    assert.equal(ok("my.site_v2"), "alice/my.site_v2");
  });

  test("owner/name is kept (a .git suffix is dropped)", () => {
    assert.equal(ok("acme/api"), "acme/api");
    assert.equal(ok("acme/api.git"), "acme/api");
  });

  test("github.com URLs and clone addresses become owner/name", () => {
    assert.equal(ok("https://github.com/acme/api"), "acme/api");
    assert.equal(ok("https://github.com/acme/api.git"), "acme/api");
    assert.equal(ok("https://github.com/acme/api/"), "acme/api");
    assert.equal(ok("https://www.github.com/acme/api"), "acme/api");
    assert.equal(ok("http://github.com/acme/api"), "acme/api");
    assert.equal(ok("github.com/acme/api"), "acme/api");
    assert.equal(ok("git@github.com:acme/api.git"), "acme/api");
    assert.equal(ok("ssh://git@github.com/acme/api.git"), "acme/api");
  });

  test("another host can be configured (GitHub Enterprise)", () => {
    assert.equal(ok("https://ghe.example.com/team/app", "alice", "ghe.example.com"), "team/app");
    assert.match(rejected("https://ghe.example.com/team/app"), /only repositories on github\.com/);
  });

  test("other forms are rejected with a message that shows the accepted ones", () => {
    for (const input of ["", "a/b/c", "https://gitlab.com/acme/api", "git@gitlab.com:acme/api.git", "https://github.com/acme", "ftp://github.com/acme/api", "https://github.com/acme/api?tab=readme"]) {
      assert.match(rejected(input), /Use a repository name \("my-app", one of yours\), "owner\/my-app", or "https:\/\/github\.com\/owner\/my-app"\./);
    }
    assert.match(rejected("https://gitlab.com/acme/api"), /is on gitlab\.com/);
    assert.match(rejected("https://github.com/acme/api/tree/main"), /points inside a repository; use https:\/\/github\.com\/acme\/api/);
    assert.match(rejected("-acme/api"), /not a valid GitHub account name/);
    assert.match(rejected("acme/my app"), /letters, digits/);
    assert.match(rejected("acme/.."), /repository name/);
    assert.match(rejected("acme/"), /repository name/);
  });

  test("every form of a valid owner/name normalises to the same reference, and normalising is idempotent", () => {
    const alnum = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    const owner = fc
      .array(fc.oneof(alnum, fc.constant("-")), { minLength: 1, maxLength: 39 })
      .map((chars) => chars.join(""))
      .filter((login) => /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*$/.test(login));
    const name = fc
      .array(fc.oneof(alnum, fc.constantFrom(".", "_", "-")), { minLength: 1, maxLength: 60 })
      .map((chars) => chars.join(""))
      .filter((repo) => repo !== "." && repo !== ".." && !/\.git$/i.test(repo));
    fc.assert(
      fc.property(owner, name, (o, n) => {
        const expected = `${o}/${n}`;
        for (const form of [expected, `https://github.com/${o}/${n}`, `https://github.com/${o}/${n}.git`, `git@github.com:${o}/${n}.git`]) {
          assert.equal(ok(form), expected);
        }
        assert.equal(ok(n, o), expected);
        assert.equal(ok(ok(expected)), expected);
      }),
    );
  });
});
