import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import type { Layer } from "effect"
import type { TroupeClock } from "../clock.js"
import type { SupervisorSpec } from "./spec.js"
import { supervise } from "./supervisor.js"

/**
 * The daemon's main: runs the root supervisor with `layer` until the process is told to stop.
 * SIGINT/SIGTERM interrupt it (ordered shutdown of the whole tree) and the process exits 0;
 * the root giving up is logged with its cause and the process exits 1, so systemd restarts the
 * daemon. A layer that fails to build also exits 1.
 */
export const runRootSupervisor = <R = never>(spec: SupervisorSpec<R>, layer: Layer.Layer<R | TroupeClock, unknown>): void => {
  NodeRuntime.runMain(Effect.scoped(supervise(spec)).pipe(Effect.provide(layer)))
}
