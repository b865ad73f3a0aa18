import { Effect } from "effect"
import type { StoreService } from "../actors/ports/store.js"
import { loadStoreSource } from "../analytics/store-source.js"
import { ControlError, type ReportSourceView } from "./control.js"

/**
 * The post-trade report's input read by the running daemon from its own store, for
 * `troupe report` while the daemon holds a PGlite store (PGlite allows one process). The CLI
 * runs the analytics (DuckDB) itself over these rows, exactly as over a store it opened.
 * One read at a time: a second request while one runs waits for it rather than doubling the load.
 */
const collect = async <R>(rows: AsyncIterable<R> | Iterable<R> | undefined): Promise<R[]> => {
  const out: R[] = []
  for await (const r of rows ?? []) out.push(r)
  return out
}

export const makeReportSource = (store: StoreService, where: string): (() => Effect.Effect<ReportSourceView, ControlError>) => {
  let running: Promise<ReportSourceView> | undefined
  const read = async (): Promise<ReportSourceView> => {
    const source = await loadStoreSource({ store })
    return {
      orders: await collect(source.orders),
      fills: await collect(source.fills),
      riskDecisions: await collect(source.riskDecisions),
      counts: source.counts,
      where
    }
  }
  return () =>
    Effect.tryPromise({
      try: () => {
        running ??= read().finally(() => (running = undefined))
        return running
      },
      catch: (e) => new ControlError({ code: "Unavailable", message: `reading the store for the report failed: ${e instanceof Error ? e.message : String(e)}` })
    })
}
