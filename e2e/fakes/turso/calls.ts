/**
 * What the fake was asked, per endpoint: tests count calls (did the client
 * retry? did it avoid a second create?) and wait for a call to arrive instead
 * of sleeping.
 */
import { EventEmitter } from "node:events";

export interface RecordedCall {
  /** operationId from the OpenAPI document, or "unknown" for an undocumented route. */
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  /** Status answered, or "hang" when the fake never answered. */
  readonly outcome: number | "hang";
}

export class CallLog {
  readonly #entries: Array<RecordedCall> = [];
  readonly #events = new EventEmitter();

  get entries(): ReadonlyArray<RecordedCall> {
    return this.#entries;
  }

  /** Calls received for `operation` (every operation when omitted), faulted ones included. */
  count(operation?: string): number {
    return operation === undefined ? this.#entries.length : this.#entries.filter((call) => call.operation === operation).length;
  }

  /** Resolves once `count(operation)` reaches `atLeast`. */
  waitFor(operation: string, atLeast = 1): Promise<void> {
    if (this.count(operation) >= atLeast) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.count(operation) < atLeast) return;
        this.#events.off("call", check);
        resolve();
      };
      this.#events.on("call", check);
    });
  }

  reset(): void {
    this.#entries.length = 0;
  }

  record(call: RecordedCall): void {
    this.#entries.push(call);
    this.#events.emit("call", call);
  }
}
