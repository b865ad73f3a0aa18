/**
 * DNS rebinding defence: a web page on an attacker's name can make the browser resolve that
 * name to 127.0.0.1 and then talk to the control API as a "same-origin" site — the open routes
 * (`/healthz`, `/metrics`, the inspector) at least, and anything a token in the page reaches.
 * The browser still sends the attacker's name in `Host`, so every request and WebSocket upgrade
 * must name this host: a loopback name, the address the API is bound to, or a configured name.
 */

const LOOPBACK_IPV4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/
const LOOPBACK = new Set(["localhost", "::1"])

/** `Host` without its port, lower case, without a trailing dot; IPv6 without brackets. */
export const hostName = (header: string): string | undefined => {
  const h = header.trim().toLowerCase()
  if (h.startsWith("[")) {
    const end = h.indexOf("]")
    if (end < 0) return undefined
    const rest = h.slice(end + 1)
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return undefined
    return h.slice(1, end)
  }
  const m = /^([^:]+)(?::\d{1,5})?$/.exec(h)
  if (m === null) return undefined
  const name = (m[1] as string).replace(/\.$/, "")
  return name === "" ? undefined : name
}

const WILDCARD = new Set(["0.0.0.0", "::", ""])

/**
 * A predicate over the `Host` header. `bindHost` is the address the API listens on (allowed
 * when it is a specific one); `allowed` are extra names, e.g. the machine's DNS name when the API
 * is reached through a tunnel or proxy.
 */
export const hostAllowed = (bindHost: string, allowed: ReadonlyArray<string> = []): ((header: string | undefined) => boolean) => {
  const names = new Set(allowed.map((a) => hostName(a) ?? a.toLowerCase()))
  const bind = hostName(bindHost.includes(":") && !bindHost.startsWith("[") ? `[${bindHost}]` : bindHost)
  if (bind !== undefined && !WILDCARD.has(bind)) names.add(bind)
  return (header) => {
    if (header === undefined) return false
    const name = hostName(header)
    if (name === undefined) return false
    return LOOPBACK.has(name) || LOOPBACK_IPV4.test(name) || names.has(name)
  }
}
