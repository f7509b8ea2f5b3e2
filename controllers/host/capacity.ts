/**
 * Compute quantities in integers: CPU in millicores, memory in bytes. Specs carry them as the
 * strings docker and Coolify take ("0.5", "512M", "8G"); sums and comparisons happen here so
 * 0.1 + 0.2 never misses a host by a rounding error.
 */
import type { AppSpec, HostSpec } from "../../schemas/index.ts"

export interface Resources {
  readonly cpuMillis: number
  readonly memoryBytes: number
}

export const ZERO: Resources = { cpuMillis: 0, memoryBytes: 0 }

const MIB = 1024 * 1024
const GIB = 1024 * MIB

/**
 * What an App without `spec.resources` is assumed to use. Placement needs a number for every app,
 * or a host could be filled with "free" apps; this matches a small persistent container.
 */
export const DEFAULT_APP_REQUEST: Resources = { cpuMillis: 250, memoryBytes: 256 * MIB }

/** "0.5" → 500. Schema (Cpu) has already checked the format. */
export const parseCpuMillis = (cpu: string): number => Math.round(Number(cpu) * 1000)

/** "512M" → 512 MiB, "2G" → 2 GiB (docker's binary units). Schema (Memory) has checked the format. */
export const parseMemoryBytes = (memory: string): number => {
  const amount = Number(memory.slice(0, -1))
  return memory.endsWith("G") ? amount * GIB : amount * MIB
}

export const formatCpu = (millis: number): string => String(Number((millis / 1000).toFixed(3)))

export const formatMemory = (bytes: number): string =>
  bytes >= GIB && bytes % GIB === 0 ? `${bytes / GIB}G` : bytes >= GIB ? `${(bytes / GIB).toFixed(1)}G` : `${Math.round(bytes / MIB)}M`

export const describeResources = (resources: Resources): string =>
  `cpu ${formatCpu(resources.cpuMillis)}, memory ${formatMemory(resources.memoryBytes)}`

export const add = (a: Resources, b: Resources): Resources => ({
  cpuMillis: a.cpuMillis + b.cpuMillis,
  memoryBytes: a.memoryBytes + b.memoryBytes
})

export const subtract = (a: Resources, b: Resources): Resources => ({
  cpuMillis: a.cpuMillis - b.cpuMillis,
  memoryBytes: a.memoryBytes - b.memoryBytes
})

export const fits = (request: Resources, free: Resources): boolean =>
  request.cpuMillis <= free.cpuMillis && request.memoryBytes <= free.memoryBytes

/** What an App asks for; a missing field takes the default, so partial requests still count. */
export const appRequest = (resources: AppSpec["resources"] | undefined): Resources => ({
  cpuMillis: resources?.cpu !== undefined ? parseCpuMillis(resources.cpu) : DEFAULT_APP_REQUEST.cpuMillis,
  memoryBytes: resources?.memory !== undefined ? parseMemoryBytes(resources.memory) : DEFAULT_APP_REQUEST.memoryBytes
})

export const hostCapacity = (capacity: HostSpec["capacity"]): Resources => ({
  cpuMillis: parseCpuMillis(capacity.cpu),
  memoryBytes: parseMemoryBytes(capacity.memory)
})
