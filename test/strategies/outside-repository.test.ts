import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { StrategyCatalog } from "../../src/daemon/strategy-catalog.js"
import { instrumentsOf } from "../../src/strategies/ports.js"

// A strategy author's own folder, outside the checkout, with Troupe installed as a package
// (node_modules/troupe, as `npm install <troupe>` or `npm link troupe` leave it). The strategy
// imports only `troupe/sdk`, resolved through the package's `exports` to the built SDK (dist/).
// The daemon's `strategy add <file>` loads a file through this same catalog.
const repo = resolve(".")
const built = existsSync(join(repo, "dist/strategies/sdk.js"))

describe("a strategy outside the repository", () => {
  it.skipIf(!built)("imports defineStrategy from troupe/sdk and loads through the catalog that `troupe strategy add` uses (needs npm run build)", async () => {
    const folder = mkdtempSync(join(tmpdir(), "my-desk-"))
    mkdirSync(join(folder, "node_modules"))
    symlinkSync(repo, join(folder, "node_modules", "troupe"))
    const file = join(folder, "quote-once.strategy.ts")
    writeFileSync(
      file,
      `import { defineStrategy, DecimalFromString, order, Schema, type InstrumentId } from "troupe/sdk"

export default defineStrategy({
  id: "quote-once",
  description: "one post-only bid one tick under the best bid",
  instruments: (p) => [p.instrument],
  params: Schema.Struct({ instrument: Schema.String, qty: DecimalFromString }),
  init: () => ({ sent: false }),
  onBook: (ctx, book) => {
    if (ctx.state.sent || book.bestBid === undefined) return
    ctx.state.sent = true
    ctx.submit({ instrument: ctx.params.instrument as InstrumentId, side: "buy", qty: ctx.params.qty, type: order.postOnly(book.bestBid.price) })
  }
})
`
    )
    const definition = await Effect.runPromise(new StrategyCatalog().load(file))
    expect(definition.id).toBe("quote-once")
    expect(instrumentsOf(definition, { instrument: "kraken-futures:PF_XBTUSD", qty: "0.001" })).toEqual(["kraken-futures:PF_XBTUSD"])
    // A folder without Troupe installed gets a load error naming the package, not a crash.
    const bare = mkdtempSync(join(tmpdir(), "no-troupe-"))
    writeFileSync(join(bare, "s.ts"), `import { defineStrategy } from "troupe/sdk"\nexport default defineStrategy({} as never)\n`)
    const failed = await Effect.runPromise(Effect.either(new StrategyCatalog().load(join(bare, "s.ts"))))
    expect(failed._tag).toBe("Left")
    expect(failed._tag === "Left" ? failed.left.message : "").toMatch(/troupe/)
  })
})
