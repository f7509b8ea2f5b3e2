/**
 * SSH "exec" carries one command STRING, which the server hands to the user's
 * login shell (`$SHELL -c <string>`). To run an argv exactly as given, every
 * element is wrapped in POSIX single quotes, inside which the shell interprets
 * nothing, and each embedded single quote is written as '\'' (close the quote,
 * an escaped quote, reopen). No input is ever spliced into a shell string
 * unquoted. This assumes a POSIX login shell (sh, dash, bash, zsh) on the host.
 */

/** Quotes one argument for a POSIX shell: `it's` → `'it'\''s'`. */
export function quoteShellArg(arg: string): string {
  if (arg.includes("\0")) {
    // A shell string cannot carry NUL: the remote side would silently cut the argument.
    throw new TypeError("a command argument cannot contain a NUL byte")
  }
  return `'${arg.replaceAll("'", `'\\''`)}'`
}

/** Joins an argv into one command string in which every element stays one literal word. */
export function quoteShellCommand(argv: ReadonlyArray<string>): string {
  if (argv.length === 0) throw new TypeError("a command needs at least the program name")
  return argv.map(quoteShellArg).join(" ")
}
