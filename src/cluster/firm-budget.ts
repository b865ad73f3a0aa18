import pg from "pg"
import { Decimal, ZERO } from "../domain/decimal.js"

/**
 * Firm-wide limits across accounts that live on different trading nodes (docs/cluster.md,
 * "Firm-wide limits"). A firm limit (`key`, e.g. `gross:BTC` or `openNotional:USD`) has a total
 * in Postgres; each account holds an **allotment** of it, and the allotments of a key never sum
 * past its total (Postgres keeps that sum: every grant is made under the limit row's lock).
 *
 * The owner of an account approves against its **local** allotment, synchronously, with no round
 * trip: an order is approved only if the account's exposure after it stays within what the
 * account holds. A background loop per account asks Postgres for more when its headroom runs
 * low (a denial asks at once) and gives back what it does not need, so the firm's headroom flows
 * to the accounts that use it.
 *
 * The invariant that makes it safe: `exposure(account) ≤ local(account) ≤ stored(account)` at
 * every approval, and `Σ stored ≤ total`. So the firm's exposure, summed over accounts, never
 * passes the total whichever nodes they live on. To keep `local ≤ stored` across the two steps of
 * a change: a grant is committed in Postgres first and raised locally after; a give-back is lowered
 * locally first (never below the exposure the account has) and committed after — a failure between
 * the two leaves the local value lower, which is safe. Exposure only falls between approvals (a
 * fill turns open quantity into position, a cancel removes it), so an account never holds more
 * than it was approved for.
 *
 * A new owner of an account (failover) starts from the stored allotment. A zombie owner may still
 * approve against its old local copy, but its fence refuses every venue request and journal append
 * (fence.ts), so nothing it approves reaches the venue.
 */

const SCHEMA = `create schema if not exists troupe;
create table if not exists troupe.firm_limits (
  limit_key text primary key,
  total numeric not null check (total >= 0)
);
create table if not exists troupe.firm_allotments (
  limit_key text not null references troupe.firm_limits (limit_key),
  account text not null,
  allotted numeric not null check (allotted >= 0),
  updated_at timestamptz not null default now(),
  primary key (limit_key, account)
)`

export interface FirmBudgetStore {
  /** Sets a firm limit's total (an operator's act). Lowering it below the allotted sum grants nothing until accounts give back. */
  readonly setLimit: (key: string, total: Decimal) => Promise<void>
  /** The account's stored allotment of `key` (0 when it has none). */
  readonly allotted: (key: string, account: string) => Promise<Decimal>
  /**
   * Grants the account up to `want` more of `key`, as much as the firm's unallotted headroom
   * allows, under the limit row's lock (grants of one key are serialized). Returns the stored
   * allotment after the grant.
   */
  readonly grow: (key: string, account: string, want: Decimal) => Promise<Decimal>
  /** Lowers the account's stored allotment of `key` to `to` (never raises it). */
  readonly shrink: (key: string, account: string, to: Decimal) => Promise<Decimal>
  /** Total and allotted sum per key (for `troupe cluster` and the tests). */
  readonly totals: (key: string) => Promise<{ readonly total: Decimal; readonly allotted: Decimal }>
  readonly close: () => Promise<void>
}

export const openFirmBudgetStore = async (databaseUrl: string): Promise<FirmBudgetStore> => {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 })
  pool.on("error", () => undefined)
  await pool.query(SCHEMA).catch(async (e: unknown) => {
    // Two nodes creating the schema at once: one of them loses the race on the catalog; once more is enough.
    if (!String(e).includes("already exists") && !String(e).includes("duplicate key")) throw e
    await pool.query(SCHEMA)
  })
  const allotted = async (key: string, account: string, client: pg.Pool | pg.PoolClient = pool): Promise<Decimal> => {
    const r = await client.query<{ allotted: string }>("select allotted::text from troupe.firm_allotments where limit_key = $1 and account = $2", [key, account])
    return new Decimal(r.rows[0]?.allotted ?? "0")
  }
  return {
    setLimit: async (key, total) => {
      await pool.query("insert into troupe.firm_limits (limit_key, total) values ($1, $2) on conflict (limit_key) do update set total = excluded.total", [key, total.toFixed()])
    },
    allotted: (key, account) => allotted(key, account),
    grow: async (key, account, want) => {
      const client = await pool.connect()
      try {
        await client.query("begin")
        const limit = await client.query<{ total: string }>("select total::text from troupe.firm_limits where limit_key = $1 for update", [key])
        const total = limit.rows[0]?.total
        if (total === undefined) {
          await client.query("rollback")
          return await allotted(key, account)
        }
        const sum = await client.query<{ s: string | null }>("select sum(allotted)::text as s from troupe.firm_allotments where limit_key = $1", [key])
        const free = Decimal.max(ZERO, new Decimal(total).minus(sum.rows[0]?.s ?? "0"))
        const grant = Decimal.min(free, Decimal.max(ZERO, want))
        const r = await client.query<{ allotted: string }>(
          `insert into troupe.firm_allotments (limit_key, account, allotted) values ($1, $2, $3)
           on conflict (limit_key, account) do update set allotted = troupe.firm_allotments.allotted + excluded.allotted, updated_at = now()
           returning allotted::text`,
          [key, account, grant.toFixed()]
        )
        await client.query("commit")
        return new Decimal(r.rows[0]!.allotted)
      } catch (e) {
        await client.query("rollback").catch(() => undefined)
        throw e
      } finally {
        client.release()
      }
    },
    shrink: async (key, account, to) => {
      const r = await pool.query<{ allotted: string }>(
        "update troupe.firm_allotments set allotted = least(allotted, $3::numeric), updated_at = now() where limit_key = $1 and account = $2 returning allotted::text",
        [key, account, Decimal.max(ZERO, to).toFixed()]
      )
      return new Decimal(r.rows[0]?.allotted ?? "0")
    },
    totals: async (key) => {
      const r = await pool.query<{ total: string | null; s: string | null }>(
        "select (select total::text from troupe.firm_limits where limit_key = $1) as total, (select sum(allotted)::text from troupe.firm_allotments where limit_key = $1) as s",
        [key]
      )
      return { total: new Decimal(r.rows[0]?.total ?? "0"), allotted: new Decimal(r.rows[0]?.s ?? "0") }
    },
    close: () => pool.end()
  }
}

export interface AllotmentPolicy {
  /** How much to ask for at once (and the headroom kept after a give-back). */
  readonly chunk: Decimal
  /** Ask for more when the headroom (allotment − exposure) falls below this. */
  readonly lowWater: Decimal
  /** Give back down to `exposure + chunk` when the headroom is above this. */
  readonly highWater: Decimal
  /** The background loop's period. */
  readonly everyMs: number
}

export interface FirmDenial {
  readonly key: string
  readonly allotted: Decimal
  readonly after: Decimal
}

/**
 * One account's allotments of the firm limits, held by the account's owner. `approve` is the hot
 * path: synchronous, local. `settle` tells it the account's exposure after a fill or a cancel.
 * `rebalance` (run by `start` every `everyMs`, and soon after a denial) grows or gives back
 * through the store, one change at a time.
 */
export class FirmAllotment {
  private readonly local = new Map<string, Decimal>()
  private readonly exposure = new Map<string, Decimal>()
  private readonly wanted = new Map<string, Decimal>()
  private timer: NodeJS.Timeout | undefined
  private busy: Promise<void> | undefined
  private urgent = false
  grants = 0
  giveBacks = 0
  denials = 0
  errors = 0

  constructor(
    readonly account: string,
    readonly keys: ReadonlyArray<string>,
    private readonly store: FirmBudgetStore,
    private readonly policy: AllotmentPolicy
  ) {}

  /**
   * Loads the stored allotments (a new owner starts from them) and starts the background loop.
   * A new owner `settle`s the exposure it recovered first, so the first pass gives back nothing in use.
   */
  async start(): Promise<void> {
    for (const key of this.keys) this.local.set(key, await this.store.allotted(key, this.account))
    await this.rebalance()
    this.timer = setInterval(() => void this.rebalance(), this.policy.everyMs)
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.busy
  }

  allotted(key: string): Decimal {
    return this.local.get(key) ?? ZERO
  }

  exposureOf(key: string): Decimal {
    return this.exposure.get(key) ?? ZERO
  }

  /**
   * The hot path: approves when, for every key, the account's exposure after the action stays
   * within its local allotment, and records that exposure. Denied: nothing recorded, and the
   * background loop is asked to grow the allotment now.
   */
  approve(after: ReadonlyMap<string, Decimal>): FirmDenial | undefined {
    for (const [key, value] of after) {
      const allotted = this.local.get(key) ?? ZERO
      if (value.greaterThan(allotted)) {
        this.denials++
        this.wanted.set(key, value)
        this.kick()
        return { key, allotted, after: value }
      }
    }
    for (const [key, value] of after) this.exposure.set(key, value)
    return undefined
  }

  /** The account's exposure now (after a fill, a cancel, a reject): never above what was approved. */
  settle(now: ReadonlyMap<string, Decimal>): void {
    for (const [key, value] of now) this.exposure.set(key, value)
  }

  private kick(): void {
    if (this.urgent || this.timer === undefined) return
    this.urgent = true
    setTimeout(() => {
      this.urgent = false
      void this.rebalance()
    }, 0)
  }

  /** One pass over the keys: grow below low water (or to a denied need), give back above high water. */
  rebalance(): Promise<void> {
    if (this.busy !== undefined) return this.busy
    this.busy = this.pass().finally(() => (this.busy = undefined))
    return this.busy
  }

  private async pass(): Promise<void> {
    const { chunk, lowWater, highWater } = this.policy
    for (const key of this.keys) {
      try {
        const held = this.local.get(key) ?? ZERO
        const used = this.exposure.get(key) ?? ZERO
        const need = this.wanted.get(key)
        this.wanted.delete(key)
        const headroom = held.minus(used)
        if (need !== undefined && need.greaterThan(held)) {
          // Committed first, raised locally after: local never above stored.
          const stored = await this.store.grow(key, this.account, need.minus(held).plus(chunk))
          this.grants++
          this.local.set(key, Decimal.max(this.local.get(key) ?? ZERO, stored))
        } else if (headroom.lessThan(lowWater)) {
          const stored = await this.store.grow(key, this.account, chunk)
          this.grants++
          this.local.set(key, Decimal.max(this.local.get(key) ?? ZERO, stored))
        } else if (headroom.greaterThan(highWater)) {
          // Lowered locally first (never below the exposure now), committed after.
          const to = Decimal.max(this.exposure.get(key) ?? ZERO, used.plus(chunk))
          if (to.lessThan(held)) {
            this.local.set(key, to)
            const stored = await this.store.shrink(key, this.account, to)
            this.giveBacks++
            // A stored value below the local one cannot happen (only this owner shrinks it), but never trust a local above the store.
            if (stored.lessThan(this.local.get(key) ?? ZERO)) this.local.set(key, stored)
          }
        }
      } catch {
        this.errors++
      }
    }
  }
}
