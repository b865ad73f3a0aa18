import { Data, Effect } from "effect"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import type { AnyStrategyDefinition } from "../strategies/ports.js"
import avellanedaStoikov from "../strategies/examples/avellaneda-stoikov.js"
import momentumBreakout from "../strategies/examples/momentum-breakout.js"
import pairsZScore from "../strategies/examples/pairs-zscore.js"

export class StrategyLoadError extends Data.TaggedError("StrategyLoadError")<{ readonly source: string; readonly reason: string }> {
  override get message(): string {
    return `cannot load strategy ${this.source}: ${this.reason}`
  }
}

const isStrategyLike = (d: unknown): boolean => typeof d === "object" && d !== null && typeof (d as { id?: unknown }).id === "string" && typeof (d as { init?: unknown }).init === "function"

const BUILT_IN: Readonly<Record<string, AnyStrategyDefinition>> = {
  "avellaneda-stoikov": avellanedaStoikov as unknown as AnyStrategyDefinition,
  "momentum-breakout": momentumBreakout as unknown as AnyStrategyDefinition,
  "pairs-zscore": pairsZScore as unknown as AnyStrategyDefinition
}

/** Strategies by built-in kind (`avellaneda-stoikov`, ...) or from a file whose default export is a definition. */
export class StrategyCatalog {
  kinds(): ReadonlyArray<string> {
    return Object.keys(BUILT_IN)
  }

  load(kindOrFile: string): Effect.Effect<AnyStrategyDefinition, StrategyLoadError> {
    const builtIn = BUILT_IN[kindOrFile]
    if (builtIn !== undefined) return Effect.succeed(builtIn)
    return Effect.tryPromise({
      try: async () => {
        // A strategy written in TypeScript: load it through tsx (a run-time dependency for this
        // reason, not a dev one). `tsImport`, not a global `register()`: in an author's folder
        // whose package.json is not `"type": "module"` (npm init's default) tsx compiles the file
        // to CommonJS, and Node refuses the require(esm) of `troupe/sdk` under a global ESM hook
        // ("in a cycle"); through tsImport it loads, its exports under `default`.
        if (/\.[cm]?ts$/.test(kindOrFile)) {
          const { tsImport } = (await import("tsx/esm/api")) as { tsImport: (specifier: string, parent: string) => Promise<{ readonly default?: unknown }> }
          const mod = await tsImport(pathToFileURL(resolve(kindOrFile)).href, import.meta.url)
          const inner = (mod.default as { readonly default?: unknown } | undefined)?.default
          return inner !== undefined && !isStrategyLike(mod.default) ? { default: inner } : mod
        }
        return (await import(pathToFileURL(resolve(kindOrFile)).href)) as { readonly default?: unknown }
      },
      catch: (e) => new StrategyLoadError({ source: kindOrFile, reason: e instanceof Error ? e.message : String(e) })
    }).pipe(
      Effect.flatMap((mod) => {
        const d = mod.default as Partial<AnyStrategyDefinition> | undefined
        return d !== undefined && typeof d === "object" && typeof d.id === "string" && typeof d.init === "function"
          ? Effect.succeed(d as AnyStrategyDefinition)
          : Effect.fail(new StrategyLoadError({ source: kindOrFile, reason: "its default export is not a strategy (use defineStrategy)" }))
      })
    )
  }
}
