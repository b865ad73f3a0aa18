/**
 * A progress line on stderr: on a terminal a bar redrawn in place (`\r`) with events/s and ETA;
 * elsewhere (a log, CI) one plain line per 10% so the output stays readable.
 */
export interface ProgressSink {
  readonly update: (done: number, total: number, rate: number, etaMs: number) => void
  readonly finish: (done: number, total: number, rate: number) => void
}

const fmtRate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0))

const fmtEta = (ms: number): string => {
  if (!Number.isFinite(ms)) return "--"
  const s = Math.round(ms / 1000)
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`
}

export const progressSink = (write: (text: string) => void, tty: boolean, label: string, width = 30): ProgressSink => {
  let lastDecile = -1
  return {
    update: (done, total, rate, etaMs) => {
      const share = total === 0 ? 1 : done / total
      if (tty) {
        const filled = Math.round(share * width)
        write(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${fmtRate(rate)} ev/s ETA ${fmtEta(etaMs)}   `)
        return
      }
      const decile = Math.floor(share * 10)
      if (decile <= lastDecile) return
      lastDecile = decile
      write(`${label}: ${decile * 10}% (${done}/${total}) ${fmtRate(rate)} ev/s ETA ${fmtEta(etaMs)}\n`)
    },
    finish: (done, total, rate) => {
      write(`${tty ? "\r" : ""}${label}: ${done}/${total} market events, ${fmtRate(rate)} ev/s${tty ? " ".repeat(width) : ""}\n`)
    }
  }
}
