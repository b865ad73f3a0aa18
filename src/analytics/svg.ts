/**
 * Inline SVG charts for the HTML report, drawn by hand: no library, no external asset.
 * Numbers here are for drawing only (pixels); the report's money stays decimal text.
 */

export const escapeXml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

export interface Series {
  readonly name: string
  readonly points: ReadonlyArray<readonly [x: number, y: number]>
  readonly color: string
}

interface Frame {
  readonly width: number
  readonly height: number
  readonly left: number
  readonly right: number
  readonly top: number
  readonly bottom: number
}

const FRAME: Frame = { width: 760, height: 260, left: 70, right: 20, top: 30, bottom: 40 }
export const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f"] as const

const fmt = (v: number): string => {
  const a = Math.abs(v)
  if (a >= 1e6) return (v / 1e6).toFixed(2) + "M"
  if (a >= 1e3) return (v / 1e3).toFixed(1) + "k"
  if (a >= 1) return v.toFixed(1)
  return v.toPrecision(2)
}

const niceStep = (span: number, n: number): number => {
  const raw = span / n
  const mag = 10 ** Math.floor(Math.log10(raw))
  return ([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw) as number
}

const ticks = (min: number, max: number, n = 5): number[] => {
  if (min === max) return [min]
  const step = niceStep(max - min, n)
  const out: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v)
  return out
}

/** A y domain that holds the data and zero, widened to whole ticks: the axis always contains every point. */
export const niceDomain = (lo: number, hi: number, n = 5): { readonly lo: number; readonly hi: number; readonly ticks: number[] } => {
  const a = Math.min(0, lo)
  const b = Math.max(0, hi)
  if (a === b) return { lo: a - 1, hi: b + 1, ticks: [a - 1, a, a + 1] }
  const step = niceStep(b - a, n)
  const nlo = Math.floor(a / step + 1e-9) * step
  const nhi = Math.ceil(b / step - 1e-9) * step
  return { lo: nlo, hi: nhi, ticks: ticks(nlo, nhi, n) }
}

const SECOND = 1000
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000].map((s) => s * SECOND)

/** Round time ticks (UTC) over [t0, t1]: seconds for a run of minutes, hours for a day, dates for months. */
export const timeTicks = (t0: number, t1: number, n = 6): { readonly ticks: number[]; readonly label: (t: number) => string } => {
  const span = Math.max(1, t1 - t0)
  const step = TIME_STEPS.find((s) => span / s <= n) ?? Math.ceil(span / n / 86_400_000) * 86_400_000
  const out: number[] = []
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t)
  const iso = (t: number): string => new Date(t).toISOString()
  const label =
    step >= 86_400_000 ? (t: number) => iso(t).slice(0, 10) : step >= 60_000 ? (t: number) => iso(t).slice(11, 16) : (t: number) => iso(t).slice(11, 19)
  return { ticks: out, label }
}

const open = (title: string, kind: string, f: Frame = FRAME): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(kind)}" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" role="img" aria-label="${escapeXml(title)}">` +
  `<rect width="${f.width}" height="${f.height}" fill="#fff"/>` +
  `<text x="${f.left}" y="18" font-size="13" font-weight="600" fill="#111">${escapeXml(title)}</text>`

const yAxis = (lo: number, hi: number, y: (v: number) => number, f: Frame, at?: ReadonlyArray<number>): string =>
  (at ?? ticks(lo, hi))
    .map(
      (t) =>
        `<line x1="${f.left}" x2="${f.width - f.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="${t === 0 ? "#888" : "#e5e7eb"}"/>` +
        `<text x="${f.left - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#555">${fmt(t)}</text>`
    )
    .join("")

const empty = (title: string, kind: string, f: Frame = FRAME): string =>
  open(title, kind, f) + `<text x="${f.width / 2}" y="${f.height / 2}" text-anchor="middle" fill="#888">no data</text></svg>`

/** Lines over a shared x axis; `xLabel` turns an x value into an axis label; `area` fills to zero. */
export const lineChart = (
  title: string,
  kind: string,
  series: ReadonlyArray<Series>,
  xLabel: (x: number) => string,
  opts: { readonly area?: boolean; readonly width?: number; readonly height?: number; readonly time?: boolean } = {}
): string => {
  const f: Frame = { ...FRAME, ...(opts.width === undefined ? {} : { width: opts.width }), ...(opts.height === undefined ? {} : { height: opts.height }) }
  const all = series.flatMap((s) => s.points)
  if (all.length === 0) return empty(title, kind, f)
  let x0 = Infinity
  let x1 = -Infinity
  let ylo = Infinity
  let yhi = -Infinity
  for (const [px, py] of all) {
    x0 = Math.min(x0, px)
    x1 = Math.max(x1, px)
    ylo = Math.min(ylo, py)
    yhi = Math.max(yhi, py)
  }
  const dom = niceDomain(ylo, yhi)
  const y = (v: number): number => f.top + ((dom.hi - v) / (dom.hi - dom.lo)) * (f.height - f.top - f.bottom)
  const x = (v: number): number => f.left + (x1 === x0 ? 0.5 : (v - x0) / (x1 - x0)) * (f.width - f.left - f.right)
  let out = open(title, kind, f) + yAxis(dom.lo, dom.hi, y, f, dom.ticks)
  if (opts.time === true && x1 > x0) {
    const t = timeTicks(x0, x1, Math.max(3, Math.floor((f.width - f.left - f.right) / 110)))
    for (const tick of t.ticks) {
      out += `<line x1="${x(tick).toFixed(1)}" x2="${x(tick).toFixed(1)}" y1="${f.top}" y2="${f.height - f.bottom}" stroke="#f1f5f9"/>`
      out += `<text x="${x(tick).toFixed(1)}" y="${f.height - f.bottom + 16}" font-size="10" text-anchor="middle" fill="#555">${escapeXml(t.label(tick))}</text>`
    }
    const range = `${new Date(x0).toISOString().slice(0, 19).replace("T", " ")} – ${new Date(x1).toISOString().slice(0, 19).replace("T", " ")} UTC`
    out += `<text x="${f.width - f.right}" y="${f.height - 6}" font-size="10" text-anchor="end" fill="#777">${escapeXml(range)}</text>`
  } else {
    const xt = x1 === x0 ? [x0] : [0, 0.25, 0.5, 0.75, 1].map((r) => Math.round(x0 + r * (x1 - x0)))
    xt.forEach((t, i) => {
      const anchor = xt.length === 1 ? "middle" : i === 0 ? "start" : i === xt.length - 1 ? "end" : "middle"
      out += `<text x="${x(t).toFixed(1)}" y="${f.height - f.bottom + 16}" font-size="10" text-anchor="${anchor}" fill="#555">${escapeXml(xLabel(t))}</text>`
    })
  }
  series.forEach((s, i) => {
    if (s.points.length === 0) return
    const d = s.points.map((p, j) => `${j === 0 ? "M" : "L"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("")
    if (opts.area === true) {
      const first = s.points[0] as readonly [number, number]
      const last = s.points[s.points.length - 1] as readonly [number, number]
      out += `<path d="${d}L${x(last[0]).toFixed(1)},${y(0).toFixed(1)}L${x(first[0]).toFixed(1)},${y(0).toFixed(1)}Z" fill="${s.color}" fill-opacity="0.25" stroke="none"/>`
    }
    out += `<path class="series" data-points="${s.points.length}" d="${d}" fill="none" stroke="${s.color}" stroke-width="${i === 0 ? 2 : 1.4}"/>`
    out += `<text x="${f.width - f.right - 4}" y="${f.top + 12 + i * 13}" font-size="11" text-anchor="end" fill="${s.color}">${escapeXml(s.name)}</text>`
  })
  return out + "</svg>"
}

export interface Bar {
  readonly label: string
  readonly value: number
}

/** Vertical bars around a zero line: positive green, negative red (or one `color`). */
export const barChart = (title: string, kind: string, bars: ReadonlyArray<Bar>, opts: { readonly color?: string; readonly gap?: number } = {}): string => {
  if (bars.length === 0) return empty(title, kind)
  const f = FRAME
  const dom = niceDomain(Math.min(...bars.map((b) => b.value)), Math.max(...bars.map((b) => b.value)))
  const y = (v: number): number => f.top + ((dom.hi - v) / (dom.hi - dom.lo)) * (f.height - f.top - f.bottom)
  const slot = (f.width - f.left - f.right) / bars.length
  const gap = opts.gap ?? 0.2
  let out = open(title, kind) + yAxis(dom.lo, dom.hi, y, f, dom.ticks)
  bars.forEach((b, i) => {
    const top = Math.min(y(b.value), y(0))
    const h = Math.max(1, Math.abs(y(b.value) - y(0)))
    const color = opts.color ?? (b.value >= 0 ? "#059669" : "#dc2626")
    const bx = f.left + i * slot + (slot * gap) / 2
    out += `<rect class="bar" x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, slot * (1 - gap)).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${escapeXml(`${b.label}: ${b.value}`)}</title></rect>`
    if (bars.length <= 24) {
      out += `<text x="${(bx + (slot * (1 - gap)) / 2).toFixed(1)}" y="${f.height - f.bottom + 16}" font-size="10" text-anchor="middle" fill="#555">${escapeXml(b.label)}</text>`
    }
  })
  return out + "</svg>"
}
