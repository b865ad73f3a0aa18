import pg from "pg"
import { Data, Effect } from "effect"
import { JournalIoError, type JournalService, type JournalTopic } from "../actors/ports/journal.js"
import type { VenueGatewayService, VenueReport } from "../actors/ports/venue-gateway.js"
import type { ApprovedAction } from "../actors/risk/index.js"

/**
 * The ownership fence of a cluster's accounts (docs/cluster.md, "Fencing"): an epoch per
 * account in Postgres. The node the consumer group assigns an account to claims it (epoch + 1,
 * one atomic UPDATE); every venue request and journal append of the account first checks that
 * the epoch is still the one it claimed. A node that lost the account — paused, partitioned,
 * slow to see the rebalance — fails the check and stops the account: it cannot act for it after
 * the new owner's claim.
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
)`

export interface EpochStore {
  /** Takes the account over: its epoch + 1 (1 on the first claim), owned by `nodeId`. */
  readonly claim: (account: string, nodeId: string) => Promise<number>
  readonly current: (account: string) => Promise<{ readonly epoch: number; readonly nodeId: string } | undefined>
  readonly close: () => Promise<void>
}

export const openEpochStore = async (databaseUrl: string): Promise<EpochStore> => {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 })
  pool.on("error", () => undefined)
  await pool.query(SCHEMA)
  return {
    claim: async (account, nodeId) => {
      const r = await pool.query<{ epoch: string }>(
        `insert into troupe.cluster_account_epochs (account, epoch, node_id) values ($1, 1, $2)
         on conflict (account) do update set epoch = troupe.cluster_account_epochs.epoch + 1, node_id = excluded.node_id, claimed_at = now()
         returning epoch`,
        [account, nodeId]
      )
      return Number(r.rows[0]!.epoch)
    },
    current: async (account) => {
      const r = await pool.query<{ epoch: string; node_id: string }>("select epoch, node_id from troupe.cluster_account_epochs where account = $1", [account])
      const row = r.rows[0]
      return row === undefined ? undefined : { epoch: Number(row.epoch), nodeId: row.node_id }
    },
    close: () => pool.end()
  }
}

/**
 * One account's fence at the epoch this node claimed. `check` resolves when the epoch is still
 * ours and rejects with `AccountFenced` when not (and from then on without asking again). Checks
 * are coalesced: a caller waits for a read that STARTED after it asked, so a passed check always
 * saw the epoch as it was after the call was made, while one read serves every caller queued
 * behind the read in flight.
 */
export class AccountFence {
  private fenced: AccountFenced | undefined
  private inFlight: Promise<void> | undefined
  private next: Promise<void> | undefined
  checks = 0

  constructor(
    readonly account: string,
    readonly epoch: number,
    private readonly store: EpochStore,
    private readonly onFenced: (e: AccountFenced) => void
  ) {}

  get lost(): AccountFenced | undefined {
    return this.fenced
  }

  check(): Promise<void> {
    if (this.fenced !== undefined) return Promise.reject(this.fenced)
    if (this.inFlight === undefined) return (this.inFlight = this.read().finally(() => (this.inFlight = undefined)))
    // A read is in flight but may have left before this call: wait for the one after it.
    this.next ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.next = undefined
        return this.check()
      })
    return this.next
  }

  private async read(): Promise<void> {
    this.checks++
    const now = await this.store.current(this.account)
    if (now !== undefined && now.epoch === this.epoch) return
    if (this.fenced === undefined) {
      this.fenced = new AccountFenced({ account: this.account, mine: this.epoch, current: now?.epoch, owner: now?.nodeId })
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
      fence.check().then(
        () => inner.send(action),
        (e: unknown) => refuse(action, e instanceof AccountFenced ? `epoch ${fence.epoch} is no longer current` : `the fence could not be read: ${String(e).slice(0, 120)}`)
      )
    }
  }
}

/** The journal behind the fence: an append is made only after a passed check (else it fails, typed). */
export const fencedJournal = (inner: JournalService, fence: AccountFence): JournalService => {
  const guard = (topic: JournalTopic) => Effect.tryPromise({ try: () => fence.check(), catch: (cause) => new JournalIoError({ op: "append", topic, cause }) })
  const appendNow = inner.appendNow
  // `appendWritten` (a write in the caller's turn) cannot wait for the check: left out, so every
  // append goes through the fence.
  const { appendWritten: _unfenced, ...rest } = inner
  return {
    ...rest,
    append: (topic, key, payload, options) => guard(topic).pipe(Effect.zipRight(inner.append(topic, key, payload, options))),
    appendBatch: (topic, entries, options) => guard(topic).pipe(Effect.zipRight(inner.appendBatch(topic, entries, options))),
    ...(appendNow === undefined ? {} : { appendNow: (topic, key, payload, options) => fence.check().then(() => appendNow(topic, key, payload, options)) })
  }
}
