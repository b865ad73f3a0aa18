import pg from "pg"
import { Data, Effect } from "effect"
import { JournalIoError, type JournalService, type JournalTopic } from "../actors/ports/journal.js"
import type { VenueGatewayService, VenueReport } from "../actors/ports/venue-gateway.js"
import type { ApprovedAction } from "../actors/risk/index.js"

/**
 * The ownership fence of a cluster's accounts (docs/cluster.md, "Fencing"): an epoch and a lease
 * per account in Postgres. The node the consumer group assigns an account to claims it (epoch + 1)
 * and waits out the previous owner's lease; the owner renews its lease while its epoch is current,
 * and every venue request and journal append of the account first checks that the lease still
 * holds (a local clock read, no round trip). A node that lost the account — paused, partitioned,
 * slow to see the rebalance — lets its lease lapse, its next renewal finds the epoch moved, and it
 * stops the account: it cannot act for it once the new owner acts.
 */
export class AccountFenced extends Data.TaggedError("AccountFenced")<{
  readonly account: string
  readonly mine: number
  readonly current: number | undefined
  readonly owner: string | undefined
}> {
  override get message(): string {
    return `account ${this.account} was taken over (epoch ${this.mine} → ${this.current ?? "none"}${this.owner === undefined ? "" : `, owner ${this.owner}`}): this node no longer acts for it`
  }
}

const SCHEMA = `create schema if not exists troupe;
create table if not exists troupe.cluster_account_epochs (
  account text primary key,
  epoch bigint not null,
  node_id text not null,
  claimed_at timestamptz not null default now()
);
alter table troupe.cluster_account_epochs add column if not exists lease_until timestamptz not null default now()`

export interface Claim {
  readonly epoch: number
  /** How long the previous owner's lease still runs, by the database's clock (0 when lapsed or none). */
  readonly waitMs: number
}

export type Renewal = { readonly ok: true } | { readonly ok: false; readonly current: number | undefined; readonly owner: string | undefined }

export interface EpochStore {
  /**
   * Takes the account over: its epoch + 1 (1 on the first claim), owned by `nodeId`. From this
   * commit on the previous owner's renewals fail; its last lease may still run `waitMs`.
   */
  readonly claim: (account: string, nodeId: string) => Promise<Claim>
  /** Extends the lease of `epoch` to the database's now + `leaseMs`, if `epoch` is still current. */
  readonly renew: (account: string, epoch: number, leaseMs: number) => Promise<Renewal>
  readonly current: (account: string) => Promise<{ readonly epoch: number; readonly nodeId: string } | undefined>
  readonly close: () => Promise<void>
}

export const openEpochStore = async (databaseUrl: string): Promise<EpochStore> => {
  // Timeouts: a renewal that hangs (a connection broken while this process was paused) must fail, so the next one runs.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3, query_timeout: 5_000, connectionTimeoutMillis: 5_000 })
  pool.on("error", () => undefined)
  await pool.query(SCHEMA)
  const current: EpochStore["current"] = async (account) => {
    const r = await pool.query<{ epoch: string; node_id: string }>("select epoch, node_id from troupe.cluster_account_epochs where account = $1", [account])
    const row = r.rows[0]
    return row === undefined ? undefined : { epoch: Number(row.epoch), nodeId: row.node_id }
  }
  return {
    claim: async (account, nodeId) => {
      // One transaction: lock the row, read how long the previous lease still runs by the
      // database's clock, move the epoch. A renewal of the old epoch waits for the lock and then
      // matches no row; one that committed before it is what the locking read sees.
      const client = await pool.connect()
      try {
        await client.query("begin")
        const old = await client.query<{ wait_ms: string | null }>(
          "select greatest(0, extract(epoch from (lease_until - clock_timestamp())) * 1000) as wait_ms from troupe.cluster_account_epochs where account = $1 for update",
          [account]
        )
        const r = await client.query<{ epoch: string }>(
          `insert into troupe.cluster_account_epochs (account, epoch, node_id, lease_until) values ($1, 1, $2, clock_timestamp())
           on conflict (account) do update set epoch = troupe.cluster_account_epochs.epoch + 1, node_id = excluded.node_id, claimed_at = now()
           returning epoch`,
          [account, nodeId]
        )
        await client.query("commit")
        return { epoch: Number(r.rows[0]!.epoch), waitMs: Math.ceil(Number(old.rows[0]?.wait_ms ?? 0)) }
      } catch (e) {
        await client.query("rollback").catch(() => undefined)
        throw e
      } finally {
        client.release()
      }
    },
    renew: async (account, epoch, leaseMs) => {
      const r = await pool.query(
        "update troupe.cluster_account_epochs set lease_until = clock_timestamp() + $3 * interval '1 millisecond' where account = $1 and epoch = $2",
        [account, epoch, leaseMs]
      )
      if (r.rowCount === 1) return { ok: true }
      const now = await current(account)
      return { ok: false, current: now?.epoch, owner: now?.nodeId }
    },
    current,
    close: () => pool.end()
  }
}

export interface LeaseTiming {
  /** How long one renewal lets the owner act (the database's now + leaseMs). Below the group's session timeout. */
  readonly leaseMs: number
  /** How often the owner renews (well below leaseMs, so that one late renewal does not stall it). */
  readonly renewEveryMs: number
}

/** The defaults from the session timeout: a lease of ¾ of it, renewed every third of the lease. */
export const leaseTiming = (sessionTimeoutMs: number, leaseMs?: number, renewEveryMs?: number): LeaseTiming => {
  const lease = leaseMs ?? Math.floor(sessionTimeoutMs * 0.75)
  return { leaseMs: lease, renewEveryMs: renewEveryMs ?? Math.max(50, Math.floor(lease / 3)) }
}

/** Clock-rate difference allowed between this host and the database's (generous: real clocks drift ~1e-5). */
const DRIFT = 0.01
const monotonic = (): number => performance.now()

/**
 * One account's fence at the epoch this node claimed: a lease renewed in Postgres (docs/cluster.md,
 * "Fencing: an epoch and a lease"). A renewal is an UPDATE that matches only while the epoch is
 * ours and sets `lease_until` to the DATABASE's clock + leaseMs. Locally the lease is judged on the
 * monotonic clock from the moment the renewal was SENT: the database executed it later, so the
 * local end (sent + leaseMs, less a drift margin) comes before the database's `lease_until` in real
 * time, whatever the two wall clocks say. A new owner waits for the database's `lease_until` before
 * acting, so no request or append of ours passes `check` after the new owner starts.
 *
 * `valid` is the synchronous fast path (no round trip); `check` waits for a renewal when the lease
 * lapsed (a stall, a pause) and rejects with `AccountFenced` once a renewal finds the epoch moved
 * (and from then on without asking again).
 */
export class AccountFence {
  private fenced: AccountFenced | undefined
  private validUntil = 0
  private notBefore: number
  private inFlight: Promise<void> | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private closed = false
  /** Renewals sent (each one database round trip). */
  renewals = 0

  constructor(
    readonly account: string,
    readonly epoch: number,
    private readonly store: EpochStore,
    private readonly timing: LeaseTiming,
    private readonly onFenced: (e: AccountFenced) => void,
    /** The previous owner's lease still runs this long (from the claim): nothing passes before. */
    waitMs = 0
  ) {
    this.notBefore = monotonic() + waitMs * (1 + DRIFT) + (waitMs > 0 ? 20 : 0)
  }

  get lost(): AccountFenced | undefined {
    return this.fenced
  }

  /** Starts the renewals (the first right away, or when the previous owner's lease ends). */
  start(): this {
    this.schedule(Math.max(0, this.notBefore - monotonic()))
    return this
  }

  close(): void {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
  }

  /** True while the lease surely holds: the caller may act now, without a round trip. */
  valid(): boolean {
    return this.fenced === undefined && monotonic() < this.validUntil
  }

  check(): Promise<void> {
    if (this.fenced !== undefined) return Promise.reject(this.fenced)
    if (this.valid()) return Promise.resolve()
    return this.renewNow().then(() => this.check())
  }

  private schedule(ms: number): void {
    if (this.closed || this.fenced !== undefined) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.renewNow().then(
        () => this.schedule(this.timing.renewEveryMs),
        () => this.schedule(Math.min(100, this.timing.renewEveryMs))
      )
    }, ms)
  }

  /** One renewal at a time; callers during one share it. Rejects when fenced or unreadable. */
  private renewNow(): Promise<void> {
    this.inFlight ??= this.renew().finally(() => (this.inFlight = undefined))
    return this.inFlight
  }

  private async renew(): Promise<void> {
    const wait = this.notBefore - monotonic()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const sent = monotonic()
    this.renewals++
    const r = await this.store.renew(this.account, this.epoch, this.timing.leaseMs)
    if (r.ok) {
      this.validUntil = Math.max(this.validUntil, sent + this.timing.leaseMs * (1 - DRIFT))
      return
    }
    this.validUntil = 0
    if (this.fenced === undefined) {
      this.fenced = new AccountFenced({ account: this.account, mine: this.epoch, current: r.current, owner: r.owner })
      this.close()
      this.onFenced(this.fenced)
    }
    throw this.fenced
  }
}

/**
 * The gateway behind the fence: a request goes to the venue only after a passed check. A fenced
 * submit or modify comes back rejected ("fenced: not sent") so its order machine ends; nothing
 * of a fenced account reaches the venue, cancels included (the new owner owns its orders now).
 */
export const fencedGateway = (inner: VenueGatewayService, fence: AccountFence, now: () => number): VenueGatewayService => {
  const local = new Set<(r: VenueReport) => void>()
  let seq = 0
  const refuse = (action: ApprovedAction, why: string): void => {
    const a = action.action
    const envelope = { id: `fence/${action.account}-e${fence.epoch}-${++seq}`, ts: now(), source: `fence/${action.account}` }
    const reason = `fenced: not sent (${why})`.slice(0, 200)
    let r: VenueReport | undefined
    if (a.kind === "submit") r = { _tag: "OrderRejected", ...envelope, account: a.intent.account, instrument: a.intent.instrument, clientOrderId: a.intent.clientOrderId, reason }
    else if (a.kind === "modify") r = { _tag: "OrderModifyRejected", ...envelope, account: a.intent.account, instrument: a.intent.instrument, clientOrderId: a.intent.clientOrderId, reason }
    if (r !== undefined) for (const l of local) l(r)
  }
  return {
    account: inner.account,
    subscribe: (listener) => {
      local.add(listener)
      const off = inner.subscribe(listener)
      return () => {
        local.delete(listener)
        off()
      }
    },
    send: (action) => {
      // The lease holds: send in this same turn, no round trip, nothing scheduled in between.
      if (fence.valid()) return inner.send(action)
      fence.check().then(
        () => inner.send(action),
        (e: unknown) => refuse(action, e instanceof AccountFenced ? `epoch ${fence.epoch} is no longer current` : `the fence could not be read: ${String(e).slice(0, 120)}`)
      )
    }
  }
}

/** The journal behind the fence: an append is made only after a passed check (else it fails, typed). */
export const fencedJournal = (inner: JournalService, fence: AccountFence): JournalService => {
  const guard = (topic: JournalTopic) =>
    Effect.suspend(() => (fence.valid() ? Effect.void : Effect.tryPromise({ try: () => fence.check(), catch: (cause) => new JournalIoError({ op: "append", topic, cause }) })))
  const appendNow = inner.appendNow
  // `appendWritten` (a write in the caller's turn) cannot wait for the check: left out, so every
  // append goes through the fence.
  const { appendWritten: _unfenced, ...rest } = inner
  return {
    ...rest,
    append: (topic, key, payload, options) => guard(topic).pipe(Effect.zipRight(inner.append(topic, key, payload, options))),
    appendBatch: (topic, entries, options) => guard(topic).pipe(Effect.zipRight(inner.appendBatch(topic, entries, options))),
    ...(appendNow === undefined ? {} : { appendNow: (topic, key, payload, options) => (fence.valid() ? appendNow(topic, key, payload, options) : fence.check().then(() => appendNow(topic, key, payload, options))) })
  }
}
