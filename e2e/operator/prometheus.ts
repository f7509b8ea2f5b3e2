/**
 * Scraping /metrics in tests: fetch, parse the Prometheus text exposition format strictly, and look
 * samples up by name and labels. (parse-prometheus-text-format was tried and dropped: it folds a
 * labelled histogram's series into one sample.) Histograms are read as Prometheus stores them:
 * `<name>_bucket{le}`, `<name>_sum`, `<name>_count` series.
 */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Scrape {
  /** Metric family name → its declared type (counter, gauge, histogram, summary, untyped). */
  readonly types: ReadonlyMap<string, string>
  readonly samples: ReadonlyArray<Sample>
  /** The value of the first series of `name` whose labels include `labels`; 0 when there is none. */
  value(name: string, labels?: Readonly<Record<string, string>>): number
  has(name: string, labels?: Readonly<Record<string, string>>): boolean
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y
const META = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/

const unescape = (text: string) => text.replace(/\\(["\\n])/g, (_, char: string) => (char === "n" ? "\n" : char))

const parseLabels = (text: string | undefined, line: string): Record<string, string> => {
  const labels: Record<string, string> = {}
  if (!text) return labels
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text)
    if (!match?.[1]) throw new Error(`malformed labels in: ${line}`)
    labels[match[1]] = unescape(match[2] ?? "")
  }
  return labels
}

const familyOf = (name: string, types: ReadonlyMap<string, string>) => {
  const base = name.replace(/_(bucket|sum|count|total|created)$/, "")
  return types.has(name) ? name : base
}

export const parseScrape = (text: string): Scrape => {
  const types = new Map<string, string>()
  const samples: Array<Sample> = []
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    if (line.startsWith("#")) {
      const meta = META.exec(line)
      if (meta?.[1] === "TYPE" && meta[2]) types.set(meta[2], meta[3] ?? "untyped")
      continue
    }
    const match = SAMPLE.exec(line)
    if (!match?.[1] || match[3] === undefined) throw new Error(`not a sample line: ${line}`)
    // Go's ParseFloat, which Prometheus uses, takes Inf and NaN in any case (prom-client writes "Nan").
    const raw = match[3].toLowerCase()
    const value = raw === "+inf" || raw === "inf" ? Infinity : raw === "-inf" ? -Infinity : raw === "nan" ? NaN : Number(raw)
    if (Number.isNaN(value) && raw !== "nan") throw new Error(`not a number in: ${line}`)
    if (!types.has(familyOf(match[1], types))) throw new Error(`sample before its # TYPE line: ${line}`)
    samples.push({ name: match[1], labels: parseLabels(match[2], line), value })
  }
  const find = (name: string, labels: Readonly<Record<string, string>> = {}) =>
    samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
  return { types, samples, value: (name, labels) => find(name, labels)?.value ?? 0, has: (name, labels) => find(name, labels) !== undefined }
}

export const scrape = async (url: string, token?: string): Promise<Scrape> => {
  const response = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${await response.text()}`)
  return parseScrape(await response.text())
}
