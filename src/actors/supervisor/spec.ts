import { Data } from "effect"
import type { Cause, Effect, Scope } from "effect"

/** OTP restart types: `permanent` always, `transient` only after a failure, `temporary` never. */
export type RestartType = "permanent" | "transient" | "temporary"
export type Strategy = "one_for_one" | "one_for_all" | "rest_for_one"
export type ChildKind = "worker" | "supervisor"

/**
 * A child, as data. `start` runs for the child's whole life, in a scope of its own that is
 * closed when it ends, fails or is stopped; returning means a normal exit, failing (or dying)
 * means a crash. Being interrupted by anyone but its supervisor counts as a normal exit.
 */
export interface ChildSpec<R = never> {
  readonly id: string
  readonly kind: ChildKind
  readonly start: Effect.Effect<void, unknown, Scope.Scope | R>
  readonly restart: RestartType
  /** How long a stop may take before the child is abandoned and reported. `Infinity` waits. */
  readonly shutdownTimeoutMs: number
  /**
   * When true, the supervisor starts the next sibling only after this child has called
   * `childReady` (or has exited). Supervisor children always work this way: they are ready
   * once all their own children have started.
   */
  readonly awaitReady?: boolean
}

export interface Intensity {
  readonly maxRestarts: number
  readonly periodMs: number
}

export const DEFAULT_INTENSITY: Intensity = { maxRestarts: 5, periodMs: 10_000 }

export interface SupervisorSpec<R = never> {
  readonly id: string
  readonly strategy: Strategy
  readonly children: ReadonlyArray<ChildSpec<R>>
  /** More than `maxRestarts` restarts within `periodMs` and the supervisor gives up. */
  readonly intensity?: Intensity
  /** Receives every supervision event of this supervisor and, unless they set their own, of its descendants. */
  readonly observer?: SupervisorObserver
}

export type ChildState = "starting" | "running" | "restarting" | "stopped" | "failed"

export interface TreeNode {
  readonly id: string
  readonly kind: ChildKind
  readonly state: ChildState
  readonly restarts: number
  /** Time since the current incarnation started; 0 when not running. */
  readonly uptimeMs: number
  readonly strategy?: Strategy
  readonly children: ReadonlyArray<TreeNode>
}

/** Why a child's fiber ended: returned, failed, or was stopped by its supervisor. */
export type ExitReason = "normal" | "failure" | "stopped"

/** `supervisor` is the path of the supervisor from the root, e.g. `root/infra`. */
export type SupervisorEvent =
  | { readonly _tag: "ChildStarted"; readonly supervisor: string; readonly child: string; readonly kind: ChildKind; readonly at: number }
  | {
      readonly _tag: "ChildExited"
      readonly supervisor: string
      readonly child: string
      readonly reason: ExitReason
      readonly cause?: Cause.Cause<unknown>
      readonly at: number
    }
  | { readonly _tag: "ChildRestarted"; readonly supervisor: string; readonly child: string; readonly restarts: number; readonly at: number }
  | { readonly _tag: "ChildKilled"; readonly supervisor: string; readonly child: string; readonly timeoutMs: number; readonly at: number }
  | {
      readonly _tag: "SupervisorGaveUp"
      readonly supervisor: string
      readonly restarts: number
      readonly periodMs: number
      readonly lastChild: string
      readonly at: number
    }

export type SupervisorObserver = (event: SupervisorEvent) => void

/** The supervisor exceeded its restart intensity, stopped all its children and escalates. */
export class SupervisorGaveUp extends Data.TaggedError("SupervisorGaveUp")<{
  readonly supervisor: string
  readonly lastChild: string
  readonly restarts: number
  readonly periodMs: number
  readonly lastCause: Cause.Cause<unknown>
}> {
  override get message(): string {
    return `supervisor ${this.supervisor} gave up: ${this.restarts} restarts within ${this.periodMs} ms (last crash: ${this.lastChild})`
  }
}

export class ChildAlreadyExists extends Data.TaggedError("ChildAlreadyExists")<{ readonly supervisor: string; readonly child: string }> {
  override get message(): string {
    return `supervisor ${this.supervisor} already has a child ${this.child}`
  }
}

export class ChildNotFound extends Data.TaggedError("ChildNotFound")<{ readonly supervisor: string; readonly child: string }> {
  override get message(): string {
    return `supervisor ${this.supervisor} has no child ${this.child}`
  }
}

export class SupervisorNotRunning extends Data.TaggedError("SupervisorNotRunning")<{ readonly supervisor: string }> {
  override get message(): string {
    return `supervisor ${this.supervisor} is not running`
  }
}

/** A worker child; its requirements are what `start` needs besides the scope it is given. */
export const worker = <R = never>(
  id: string,
  start: Effect.Effect<void, unknown, R>,
  options: { readonly restart?: RestartType; readonly shutdownTimeoutMs?: number; readonly awaitReady?: boolean } = {}
): ChildSpec<Exclude<R, Scope.Scope>> => ({
  id,
  kind: "worker",
  // Sound: R is contained in Scope | Exclude<R, Scope>, which TypeScript cannot see for a generic R.
  start: start as Effect.Effect<void, unknown, Scope.Scope | Exclude<R, Scope.Scope>>,
  restart: options.restart ?? "permanent",
  shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
  ...(options.awaitReady === undefined ? {} : { awaitReady: options.awaitReady })
})
