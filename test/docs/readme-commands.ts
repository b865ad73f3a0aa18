/**
 * The shell commands of README.md: every line of every ```sh block, with its trailing comment
 * removed (a `#` that starts a word outside quotes, as the shell reads it).
 */

export interface ReadmeCommand {
  /** The command as the shell runs it, comment removed. */
  readonly command: string
  /** The line number in README.md (1-based). */
  readonly line: number
}

/** The line without its shell comment, trimmed. */
export const stripComment = (line: string): string => {
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string
    if (quote !== undefined) {
      if (c === quote) quote = undefined
      else if (c === "\\" && quote === '"') i++
    } else if (c === "'" || c === '"') quote = c
    else if (c === "\\") i++
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1] as string))) return line.slice(0, i).trim()
  }
  return line.trim()
}

export const readmeCommands = (markdown: string): ReadonlyArray<ReadmeCommand> => {
  const out: ReadmeCommand[] = []
  let inSh = false
  markdown.split("\n").forEach((text, i) => {
    const fence = /^```(\w*)\s*$/.exec(text)
    if (fence !== null) {
      inSh = !inSh && (fence[1] === "sh" || fence[1] === "bash" || fence[1] === "shell")
      return
    }
    if (!inSh) return
    const command = stripComment(text)
    if (command !== "") out.push({ command, line: i + 1 })
  })
  return out
}
