import { monitorEventLoopDelay, PerformanceObserver, constants as perfConstants } from "node:perf_hooks"
import { MetricsRegistry } from "../actors/metrics.js"

/**
 * Process and Node runtime metrics under the names Prometheus' own clients use (`process_*`,
 * `nodejs_*`, no `troupe_` prefix), so stock dashboards and alerts work: CPU, resident memory,
 * heap, event-loop lag, GC pauses, open handles. Read at scrape time, except GC pauses
 * (observed as they happen) and the event-loop delay (sampled by Node every 10 ms).
 */

const GC_BUCKETS_S: ReadonlyArray<number> = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

const GC_KIND: Readonly<Record<number, string>> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb"
}

export interface RuntimeMetrics {
  readonly registry: MetricsRegistry
  readonly stop: () => void
}

export const startRuntimeMetrics = (version: string): RuntimeMetrics => {
  const registry = new MetricsRegistry("")
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime())
  registry.sampled("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", "gauge", {}, () => startSeconds)
  registry.sampled("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", "counter", {}, () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  })
  registry.sampled("process_cpu_user_seconds_total", "User CPU time spent, in seconds.", "counter", {}, () => process.cpuUsage().user / 1e6)
  registry.sampled("process_cpu_system_seconds_total", "System CPU time spent, in seconds.", "counter", {}, () => process.cpuUsage().system / 1e6)
  registry.sampled("process_resident_memory_bytes", "Resident memory size, in bytes.", "gauge", {}, () => process.memoryUsage.rss())
  registry.sampled("nodejs_heap_size_total_bytes", "V8 heap size, in bytes.", "gauge", {}, () => process.memoryUsage().heapTotal)
  registry.sampled("nodejs_heap_size_used_bytes", "V8 heap used, in bytes.", "gauge", {}, () => process.memoryUsage().heapUsed)
  registry.sampled("nodejs_external_memory_bytes", "Memory of C++ objects bound to JavaScript objects (buffers included), in bytes.", "gauge", {}, () => process.memoryUsage().external)
  registry.sampled("nodejs_active_handles", "libuv handles keeping the event loop alive (sockets, timers, ...).", "gauge", {}, () => process.getActiveResourcesInfo().length)

  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  registry.sampled("nodejs_eventloop_lag_seconds", "Event-loop delay, mean since start, in seconds.", "gauge", {}, () => (Number.isNaN(delay.mean) ? 0 : delay.mean / 1e9))
  registry.sampled("nodejs_eventloop_lag_p99_seconds", "Event-loop delay, 99th percentile since start, in seconds.", "gauge", {}, () => delay.percentile(99) / 1e9)
  registry.sampled("nodejs_eventloop_lag_max_seconds", "Event-loop delay, maximum since start, in seconds.", "gauge", {}, () => delay.max / 1e9)

  const gcHistograms = new Map(Object.values(GC_KIND).map((kind) => [kind, registry.histogram("nodejs_gc_duration_seconds", "Garbage collection pauses by kind, in seconds.", { kind }, GC_BUCKETS_S)]))
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KIND[((entry as unknown as { detail?: { kind?: number } }).detail)?.kind ?? -1]
      if (kind !== undefined) gcHistograms.get(kind)?.observe(entry.duration / 1000)
    }
  })
  gc.observe({ entryTypes: ["gc"] })

  registry.sampled("troupe_build_info", "Always 1; the labels say which build runs.", "gauge", { version, node: process.version, platform: `${process.platform}-${process.arch}` }, () => 1)

  return {
    registry,
    stop: () => {
      gc.disconnect()
      delay.disable()
    }
  }
}
