import type { SqlClient } from "./sql-client.js"

/**
 * Versioned migrations, shared verbatim by Postgres and PGlite. Append new versions; never edit
 * an applied one. Each runs with `search_path` set to the store's schema, as the schema owner.
 *
 * Append-only audit is enforced in the database twice: the application role `troupe_app` has
 * only SELECT/INSERT on `audit_events`, and a trigger rejects UPDATE, DELETE and TRUNCATE for
 * everyone (the owner included; PGlite has a single user, so there the trigger is what counts).
 */

export const APP_ROLE = "troupe_app"

/**
 * The application's login derived from the owner's URL: same server and database, user
 * `troupe_app`, no password (the owner's is not the app's; a server that asks for one is given
 * the app's own URL instead).
 */
export const appUrlOf = (ownerUrl: string): string => {
  const u = new URL(ownerUrl)
  u.username = APP_ROLE
  u.password = ""
  return u.toString()
}

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

// numeric(38,18) for money and quantities: exact, never float.
export const MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "audit, snapshots, projections, app role",
    sql: `
do $$ begin
  if not exists (select 1 from pg_roles where rolname = '${APP_ROLE}') then
    begin
      create role ${APP_ROLE} nologin;
    exception when duplicate_object or unique_violation then null; -- another node or database won the race
    end;
  end if;
end $$;

create table audit_events (
  id bigint generated always as identity primary key,
  journal_topic text not null,
  journal_partition integer not null check (journal_partition >= 0),
  journal_offset bigint not null check (journal_offset >= 0),
  event_id text not null,
  event_type text not null,
  kind text not null check (kind in ('order_action', 'risk_decision', 'venue_reply', 'reconciliation', 'operator_action')),
  ts timestamptz not null,
  account text,
  instrument text,
  client_order_id text,
  payload jsonb not null,
  recorded_at timestamptz not null default now(),
  constraint audit_events_journal_position unique (journal_topic, journal_partition, journal_offset)
);
create index audit_events_order on audit_events (account, client_order_id);
create index audit_events_event_id on audit_events (event_id);

create function audit_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_events is append-only: % rejected', tg_op;
end $$;
create trigger audit_events_no_update_delete before update or delete on audit_events
  for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
  for each statement execute function audit_events_append_only();

create table snapshots (
  actor_id text primary key,
  machine_version text not null,
  snapshot jsonb not null,
  offsets jsonb not null,
  taken_at timestamptz not null
);

create table orders (
  account text not null,
  client_order_id text not null,
  venue_order_id text,
  instrument text not null,
  strategy text,
  side text not null check (side in ('buy', 'sell')),
  order_type text not null,
  quantity numeric(38,18) not null,
  price numeric(38,18),
  filled_quantity numeric(38,18) not null,
  avg_fill_price numeric(38,18),
  status text not null,
  is_open boolean not null generated always as (status not in ('denied', 'rejected', 'filled', 'canceled', 'expired')) stored,
  updated_at timestamptz not null,
  source_topic text not null,
  source_partition integer not null,
  source_offset bigint not null,
  primary key (account, client_order_id)
);
create index orders_open on orders (account) where is_open;

create table fills (
  fill_id text primary key,
  account text not null,
  client_order_id text not null,
  venue_order_id text,
  instrument text not null,
  side text not null check (side in ('buy', 'sell')),
  quantity numeric(38,18) not null,
  price numeric(38,18) not null,
  fee numeric(38,18) not null,
  fee_currency text,
  liquidity text check (liquidity in ('maker', 'taker')),
  ts timestamptz not null,
  source_topic text not null,
  source_partition integer not null,
  source_offset bigint not null
);
create index fills_order on fills (account, client_order_id);

create table positions (
  account text not null,
  instrument text not null,
  quantity numeric(38,18) not null,
  avg_entry_price numeric(38,18),
  realized_pnl numeric(38,18) not null,
  updated_at timestamptz not null,
  source_topic text not null,
  source_partition integer not null,
  source_offset bigint not null,
  primary key (account, instrument)
);

do $$ begin
  execute format('grant usage on schema %I to ${APP_ROLE}', current_schema());
end $$;
grant select on schema_migrations to ${APP_ROLE};
grant select, insert on audit_events, fills to ${APP_ROLE};
grant select, insert, update, delete on snapshots, orders, positions to ${APP_ROLE};
`
  }
]

export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Applies pending migrations in one transaction under an advisory lock (per schema), so two
 * nodes starting at once neither race nor half-apply.
 */
export const runMigrations = async (client: SqlClient, schema: string): Promise<{ applied: number[]; current: number }> => {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`)
  return client.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock(hashtext($1))", [`troupe.migrations:${schema}`])
    await tx.exec(`create schema if not exists ${schema}; set local search_path to ${schema};
      create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now());`)
    const done = new Set((await tx.query<{ version: number }>("select version from schema_migrations")).map((r) => r.version))
    const applied: number[] = []
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue
      await tx.exec(m.sql)
      await tx.query("insert into schema_migrations (version, name) values ($1, $2)", [m.version, m.name])
      applied.push(m.version)
    }
    return { applied, current: Math.max(0, ...MIGRATIONS.map((m) => m.version)) }
  })
}
