/**
 * "did you mean ...?" for a name typed wrong: the known names within a small edit distance
 * (a third of the name's length, at least 1, at most 3), closest first, or those it is a prefix of.
 */

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] as number
      row[j] = Math.min(up + 1, (row[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return row[b.length] as number
}

export const closest = (typed: string, known: Iterable<string>): ReadonlyArray<string> => {
  const bound = Math.min(3, Math.max(1, Math.floor(typed.length / 3)))
  return [...new Set(known)]
    .map((k) => ({ k, d: k.startsWith(typed) && typed.length >= 2 ? 0.5 : distance(typed.toLowerCase(), k.toLowerCase()) }))
    .filter((x) => x.d <= bound && x.k !== typed)
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .slice(0, 3)
    .map((x) => x.k)
}

/** ` — did you mean mm-xbt?` (with a leading space), or `""` when nothing is close. */
export const didYouMean = (typed: string, known: Iterable<string>): string => {
  const c = closest(typed, known)
  return c.length === 0 ? "" : ` — did you mean ${c.length === 1 ? c[0] : `${c.slice(0, -1).join(", ")} or ${c.at(-1)}`}?`
}
