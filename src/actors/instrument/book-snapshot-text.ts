import { Data, Either } from "effect"
import type { BookSnapshotText, LevelText } from "../../domain/book.js"
import { isWs, literal, scanNumber } from "../../domain/json-lex.js"

/**
 * Kraken Futures' `book_snapshot` frame read from its text, numbers kept as the text sent (a
 * float never touches a price). Only on (re)sync, so it favours clarity over speed; deltas go
 * through the domain's BookDeltaScanner. Levels are `{"price":..,"qty":..}` objects, numbers or
 * numeric strings; unknown keys anywhere are skipped.
 */
export interface BookSnapshotFrame extends BookSnapshotText {
  readonly productId: string
}

export class BookSnapshotTextError extends Data.TaggedError("BookSnapshotTextError")<{ readonly input: string; readonly position: number; readonly reason: string }> {
  override get message(): string {
    return `not a book snapshot at ${this.position}: ${this.reason}`
  }
}

class Fail {
  constructor(
    readonly position: number,
    readonly reason: string
  ) {}
}

class Reader {
  i = 0
  constructor(readonly t: string) {}
  ws(): void {
    while (this.i < this.t.length && isWs(this.t.charCodeAt(this.i))) this.i++
  }
  expect(ch: string): void {
    this.ws()
    if (this.t[this.i] !== ch) throw new Fail(this.i, `expected ${ch}`)
    this.i++
  }
  peek(): string | undefined {
    this.ws()
    return this.t[this.i]
  }
  string(): string {
    this.ws()
    const start = this.i
    if (this.t[this.i] !== '"') throw new Fail(this.i, "expected a string")
    this.i++
    while (this.i < this.t.length && this.t[this.i] !== '"') this.i += this.t[this.i] === "\\" ? 2 : 1
    if (this.i >= this.t.length) throw new Fail(start, "unterminated string")
    this.i++
    return JSON.parse(this.t.slice(start, this.i)) as string
  }
  /** A number as its text, or a string holding one. */
  numberText(): string {
    this.ws()
    if (this.t[this.i] === '"') {
      const s = this.string()
      if (scanNumber(s, 0, s.length) !== s.length) throw new Fail(this.i, "expected a number")
      return s
    }
    const end = scanNumber(this.t, this.i, this.t.length)
    if (end < 0) throw new Fail(this.i, "expected a number")
    const s = this.t.slice(this.i, end)
    this.i = end
    return s
  }
  skip(): void {
    const c = this.peek()
    if (c === '"') this.string()
    else if (c === "{") this.object(() => this.skip())
    else if (c === "[") this.array(() => this.skip())
    else if (c === "t" || c === "f" || c === "n") {
      for (const lit of ["true", "false", "null"]) {
        const end = literal(this.t, this.i, lit)
        if (end >= 0) {
          this.i = end
          return
        }
      }
      throw new Fail(this.i, "bad literal")
    } else this.numberText()
  }
  object(onKey: (key: string) => void): void {
    this.expect("{")
    if (this.peek() === "}") {
      this.i++
      return
    }
    for (;;) {
      const key = this.string()
      this.expect(":")
      onKey(key)
      if (this.peek() === ",") {
        this.i++
        continue
      }
      this.expect("}")
      return
    }
  }
  array(onItem: () => void): void {
    this.expect("[")
    if (this.peek() === "]") {
      this.i++
      return
    }
    for (;;) {
      onItem()
      if (this.peek() === ",") {
        this.i++
        continue
      }
      this.expect("]")
      return
    }
  }
}

const levels = (r: Reader): LevelText[] => {
  const out: LevelText[] = []
  r.array(() => {
    let price: string | undefined
    let qty: string | undefined
    r.object((key) => {
      if (key === "price") price = r.numberText()
      else if (key === "qty") qty = r.numberText()
      else r.skip()
    })
    if (price === undefined || qty === undefined) throw new Fail(r.i, "level without price or qty")
    out.push([price, qty])
  })
  return out
}

export const parseBookSnapshotText = (text: string): Either.Either<BookSnapshotFrame, BookSnapshotTextError> => {
  const r = new Reader(text)
  let feed: string | undefined
  let productId: string | undefined
  let seq: number | undefined
  let bids: LevelText[] | undefined
  let asks: LevelText[] | undefined
  try {
    r.object((key) => {
      switch (key) {
        case "feed":
          feed = r.string()
          break
        case "product_id":
          productId = r.string()
          break
        case "seq": {
          const s = r.numberText()
          if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new Fail(r.i, "seq is not a safe non-negative integer")
          seq = Number(s)
          break
        }
        case "bids":
          bids = levels(r)
          break
        case "asks":
          asks = levels(r)
          break
        default:
          r.skip()
      }
    })
    r.ws()
    if (r.i !== text.length) throw new Fail(r.i, "trailing text")
    if (feed !== "book_snapshot") throw new Fail(0, `feed is ${String(feed)}, not book_snapshot`)
    if (productId === undefined || seq === undefined || bids === undefined || asks === undefined) throw new Fail(0, "missing product_id, seq, bids or asks")
    return Either.right({ productId, seq, bids, asks })
  } catch (e) {
    if (e instanceof Fail) return Either.left(new BookSnapshotTextError({ input: text.slice(0, 200), position: e.position, reason: e.reason }))
    return Either.left(new BookSnapshotTextError({ input: text.slice(0, 200), position: r.i, reason: String(e) }))
  }
}
