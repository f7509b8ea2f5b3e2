import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { existsSync, realpathSync } from "node:fs"
import { describe, test } from "node:test"
import fc from "fast-check"
import { quoteShellArg, quoteShellCommand } from "./shell-quote.ts"

// The remote login shell is whatever the host has; check the shells we expect there.
const shells = [...new Set(["/bin/sh", "/bin/dash", "/bin/bash", "/bin/zsh"].filter((shell) => existsSync(shell)).map((shell) => realpathSync(shell)))]

/** Runs the quoted command through `shell -c`, the way sshd runs an exec request (printf needs at least one argument to mean it). */
const roundTrip = (shell: string, args: ReadonlyArray<string>): Array<string> => {
  const output = execFileSync(shell, ["-c", quoteShellCommand(["printf", "%s\\0", ...args])], { encoding: "utf8" })
  return output.split("\0").slice(0, -1)
}

describe("POSIX single-quote escaping", () => {
  test("known awkward cases", () => {
    assert.equal(quoteShellArg("plain"), "'plain'")
    assert.equal(quoteShellArg("it's"), `'it'\\''s'`)
    assert.equal(quoteShellArg(""), "''")
    assert.equal(quoteShellCommand(["echo", "a b", "$(x)"]), `'echo' 'a b' '$(x)'`)
  })

  test("rejects what a shell string cannot carry", () => {
    assert.throws(() => quoteShellArg("a\0b"), /NUL/)
    assert.throws(() => quoteShellCommand([]), /program name/)
  })

  for (const shell of shells) {
    test(`any argv survives ${shell} -c unchanged`, () => {
      const arg = fc.string({ unit: "binary" }).filter((s) => !s.includes("\0"))
      fc.assert(
        fc.property(fc.array(arg, { minLength: 1, maxLength: 6 }), (args) => {
          assert.deepEqual(roundTrip(shell, args), args)
        }),
        { numRuns: 150 }
      )
    })
  }
})
