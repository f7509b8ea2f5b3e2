export { startTursoFake } from "./server.ts";
export type { TursoFake, TursoFakeOptions } from "./server.ts";
export { FaultInjector } from "./faults.ts";
export type { FaultOutcome, FaultPhase, FaultScope } from "./faults.ts";
export { CallLog } from "./calls.ts";
export type { RecordedCall } from "./calls.ts";
export { FakeTursoState } from "./state.ts";
export type { FakeDatabase, FakeGroup, TursoDatabase } from "./state.ts";
export { parseExpiration } from "./tokens.ts";
