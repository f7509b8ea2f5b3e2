/**
 * Server-rendered HTML without a framework: `html` is a tagged template that escapes every
 * interpolated value unless it is already `Html` (built by `html` itself), so user data can
 * never become markup.
 */
export class Html {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  toString(): string {
    return this.value
  }
}

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)

type Interpolation = Html | string | number | boolean | null | undefined | ReadonlyArray<Interpolation>

const render = (value: Interpolation): string => {
  if (value === null || value === undefined || value === false) return ""
  if (value instanceof Html) return value.value
  if (Array.isArray(value)) return value.map(render).join("")
  return escapeHtml(String(value))
}

export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<Interpolation>): Html =>
  new Html(strings.reduce((out, text, index) => out + text + (index < values.length ? render(values[index] as Interpolation) : ""), ""))

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}
code,pre{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}pre{padding:.7rem;white-space:pre-wrap;word-break:break-all}
.ok{color:#1a7f37}.bad{color:#cf222e}.muted{color:#656d76}.notice{background:#fff8c5;padding:.7rem;border-radius:6px}
form.inline{display:inline}button,.button{font:inherit;padding:.3rem .8rem;border:1px solid #d0d7de;border-radius:6px;background:#f6f8fa;color:inherit;text-decoration:none;cursor:pointer}
`

export const page = (title: string, body: Html): string =>
  html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title} · Deploy MCP</title><style>${new Html(STYLE)}</style></head><body>${body}</body></html>`.value

/** A page that says what went wrong and what to do next. */
export const messagePage = (title: string, message: string, next: { readonly href: string; readonly label: string } = { href: "/dashboard", label: "Back to the dashboard" }): string =>
  page(title, html`<h1>${title}</h1><p role="alert">${message}</p><p><a class="button" href="${next.href}">${next.label}</a></p>`)
