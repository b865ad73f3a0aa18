/**
 * Plain-text rendering for people: aligned tables and the supervision tree. No colours, so
 * the output pipes and diffs cleanly; scripts use `--json` instead.
 */

export const renderTable = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd()
  return [line(headers), ...rows.map(line)].join("\n") + "\n"
}

/** `1d 2h`, `3h 4m`, `5m 6s`, `7s`, `0s`. */
export const formatDuration = (ms: number): string => {
  const s = Math.floor(Math.max(0, ms) / 1000)
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3_600)
  const m = Math.floor((s % 3_600) / 60)
  const sec = s % 60
  if (d > 0) return `${d}d ${h}h`
  if (h > 0) return `${h}h ${m}m`
  if (m > 0) return `${m}m ${sec}s`
  return `${sec}s`
}

export interface TreeLine<N> {
  readonly node: N
  /** `├─ `, `│  └─ ` ...: the drawing in front of the node's name. */
  readonly prefix: string
}

/** Depth-first lines of a tree with box-drawing prefixes; the root has none. */
export const treeLines = <N extends { readonly children: ReadonlyArray<N> }>(root: N): ReadonlyArray<TreeLine<N>> => {
  const out: TreeLine<N>[] = [{ node: root, prefix: "" }]
  const walk = (node: N, indent: string): void => {
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1
      out.push({ node: child, prefix: indent + (last ? "└─ " : "├─ ") })
      walk(child, indent + (last ? "   " : "│  "))
    })
  }
  walk(root, "")
  return out
}

/** A machine state value (`"accepted"`, `{ live: "fresh" }`) as `accepted` / `live.fresh`. */
export const stateText = (value: unknown): string => {
  if (value === undefined || value === null) return ""
  if (typeof value === "string") return value
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => {
        const inner = stateText(v)
        return inner === "" ? k : `${k}.${inner}`
      })
      .join(",")
  }
  return String(value)
}

/** `key   value` lines, keys padded to one column. */
export const renderPairs = (pairs: ReadonlyArray<readonly [string, string]>): string => {
  const width = Math.max(0, ...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n") + "\n"
}

/**
 * A decimal text rounded (half away from zero) to `places`, trailing zeros kept so a column
 * lines up: `atPrecision("60009.000000000000001", 1)` is `60009.0`. Exact text math, no floats;
 * without `places` the text is returned as it is.
 */
export const atPrecision = (text: string, places: number | undefined): string => {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text)
  if (places === undefined || m === null) return text
  const [, sign, int, frac = ""] = m as unknown as [string, string, string, string | undefined]
  const digits = BigInt(int + frac.padEnd(places + 1, "0").slice(0, places + 1))
  const rounded = (digits + 5n) / 10n
  const s = rounded.toString().padStart(places + 1, "0")
  const out = places === 0 ? s : `${s.slice(0, -places)}.${s.slice(-places)}`
  return rounded === 0n || sign === "" ? out : `-${out}`
}
