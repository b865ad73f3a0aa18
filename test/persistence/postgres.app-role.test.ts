import { randomBytes } from "node:crypto"
import { Effect, Either } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { journalOffset } from "../../src/actors/ports/journal.js"
import { APP_ROLE, appUrlOf } from "../../src/persistence/migrations.js"
import { makePostgresStore, type PostgresStoreHandle } from "../../src/persistence/postgres.js"

const url = inject("databaseUrl")
const skip = url === "" ? "TROUPE_TEST_SERVICES=none: no Postgres" : undefined

const row = (offset: number) => ({
  source: journalOffset("orders", 0, offset),
  eventId: `evt-${offset}`,
  eventType: "OrderSubmitted",
  kind: "order_action" as const,
  ts: Date.UTC(2025, 0, 2) + offset,
  account: "acct-1",
  instrument: "kraken-futures:PF_XBTUSD",
  clientOrderId: `s1-1-${offset}`,
  payload: { qty: "0.001" }
})

describe.skipIf(skip !== undefined)("the daemon's Postgres login is the application role, not the owner", () => {
  const schema = `app_role_${randomBytes(4).toString("hex")}`
  let handle: PostgresStoreHandle
  let owner: pg.Client

  beforeAll(async () => {
    handle = makePostgresStore({ url, schema })
    await Effect.runPromise(handle.store.migrate())
    await Effect.runPromise(handle.store.appendAudit([row(0), row(1)]))
    owner = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
    await owner.connect()
  })

  afterAll(async () => {
    await owner?.query(`drop schema ${schema} cascade`).catch(() => undefined)
    await owner?.end()
    if (handle !== undefined) await Effect.runPromise(handle.store.close())
  })

  it("logs in as troupe_app (session user), not as the owner that ran the migrations", async () => {
    const [who] = await handle.app.query<{ session_user: string; current_user: string }>("select session_user::text, current_user::text")
    expect(who).toEqual({ session_user: APP_ROLE, current_user: APP_ROLE })
    const [ownerName] = await owner.query<{ u: string }>("select session_user::text as u").then((r) => r.rows)
    expect(ownerName?.u).not.toBe(APP_ROLE)
  })

  it("cannot drop or disable the audit trigger, even after RESET ROLE", async () => {
    for (const sql of [
      "drop trigger audit_events_no_update_delete on audit_events",
      "alter table audit_events disable trigger audit_events_no_update_delete",
      "reset role; drop trigger audit_events_no_truncate on audit_events",
      "drop function audit_events_append_only() cascade"
    ]) {
      // 42501 insufficient_privilege: "must be owner of table/function audit_events..."
      await expect(handle.app.query(sql), sql).rejects.toMatchObject({ code: "42501" })
    }
    const [n] = (await owner.query<{ n: string }>("select count(*)::text as n from pg_trigger where tgrelid = 'audit_events'::regclass and not tgisinternal")).rows
    expect(n?.n).toBe("2")
  })

  it("cannot delete, update or truncate audit rows, which stay as written", async () => {
    for (const sql of ["delete from audit_events", "update audit_events set event_id = 'x'", "truncate audit_events", "reset role; delete from audit_events"]) {
      await expect(handle.app.query(sql), sql).rejects.toMatchObject({ code: "42501" })
    }
    const rows = await Effect.runPromise(handle.store.queryAudit({ account: "acct-1" }))
    expect(rows.map((r) => r.eventId)).toEqual(["evt-0", "evt-1"])
  })

  it("refuses to run when the application login is the owner itself (a superuser here)", async () => {
    const unsafe = makePostgresStore({ url, appUrl: url, schema })
    try {
      const r = await Effect.runPromise(Effect.either(unsafe.store.migrate()))
      expect(Either.isLeft(r) ? r.left.message : "migrated").toMatch(/^store migrate failed: the application.s database login "[^"]+" is a superuser: it could drop the audit trigger/)
    } finally {
      await Effect.runPromise(unsafe.store.close())
    }
  })

  it("derives the application URL from the owner's: same server and database, user troupe_app, no password", () => {
    expect(appUrlOf("postgres://owner:s3cret@db.example:5433/troupe?sslmode=require")).toBe("postgres://troupe_app@db.example:5433/troupe?sslmode=require")
  })
})
