import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, openSync, closeSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Kafka, logLevel } from "kafkajs"
import { freePort } from "./free-port.js"

/**
 * A real Apache Kafka broker for tests and benches: single node, KRaft mode, from the official
 * jars that Maven resolves from our own pom (services/kafka/pom.xml) into a git-ignored cache.
 * If KAFKA_BROKERS is set and answers, that broker is used instead and left alone.
 */
export interface KafkaService {
  readonly brokers: ReadonlyArray<string>
  /** True when we started the broker (and so may restart or stop it). */
  readonly owned: boolean
  readonly logFile: string | undefined
  readonly stop: () => Promise<void>
  /** Stops the broker process and starts it again on the same ports and data (for restart tests). */
  readonly restart: (downMs?: number) => Promise<void>
}

const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)))
const pomDir = join(repoRoot, "services", "kafka")
const libsDir = join(pomDir, "target", "kafka-libs")

const log = (msg: string): void => {
  process.stderr.write(`[services] ${msg}\n`)
}

export const brokerAnswers = async (brokers: ReadonlyArray<string>, timeoutMs: number): Promise<boolean> => {
  const kafka = new Kafka({ brokers: [...brokers], clientId: "troupe-probe", logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } })
  const admin = kafka.admin()
  const attempt = async (): Promise<boolean> => {
    try {
      await admin.connect()
      const cluster = await admin.describeCluster()
      return cluster.brokers.length > 0
    } catch {
      return false
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await attempt()) return true
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 250))
  }
}

/**
 * The first consumer group on a new broker creates and loads `__consumer_offsets`; on a loaded
 * 2-core machine that has taken over a minute. Journal reads are consumer groups, so the broker
 * is only "ready" once a group coordinator answers.
 */
const groupCoordinatorReady = async (brokers: ReadonlyArray<string>, timeoutMs: number): Promise<boolean> => {
  const kafka = new Kafka({ brokers: [...brokers], clientId: "troupe-probe", logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } })
  const admin = kafka.admin()
  const deadline = Date.now() + timeoutMs
  try {
    await admin.connect()
    for (;;) {
      try {
        await admin.describeGroups(["troupe-warmup"])
        return true
      } catch {
        if (Date.now() > deadline) return false
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

const ensureJars = (): void => {
  const present = existsSync(libsDir) && readdirSync(libsDir).some((f) => f.startsWith("kafka_2.13-"))
  if (present) return
  log("resolving the Apache Kafka broker jars with Maven (first run only)...")
  const mvn = spawnSync("mvn", ["-q", "-B", "dependency:copy-dependencies"], { cwd: pomDir, stdio: ["ignore", "inherit", "inherit"] })
  if (mvn.error || mvn.status !== 0) {
    throw new Error(
      "Kafka broker jars could not be resolved: the tests need Java 17+ and Maven (mvn) with access to Maven Central, or KAFKA_BROKERS pointing at a running broker"
    )
  }
}

const javaBin = (): string => {
  const home = process.env.JAVA_HOME
  if (home && existsSync(join(home, "bin", "java"))) return join(home, "bin", "java")
  return "java"
}

/**
 * Kafka cluster ids are 16 random bytes in URL-safe base64 without padding. One starting with
 * "-" (1 in 64) is read as an option by kafka-storage's argument parser: draw again.
 */
const clusterId = (): string => {
  for (;;) {
    const id = randomBytes(16).toString("base64url")
    if (!id.startsWith("-")) return id
  }
}

export const startKafka = async (): Promise<KafkaService> => {
  const fromEnv = process.env.KAFKA_BROKERS
  if (fromEnv) {
    const brokers = fromEnv.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
    if (await brokerAnswers(brokers, 5000)) {
      log(`using the Kafka broker at ${brokers.join(",")} (KAFKA_BROKERS)`)
      return { brokers, owned: false, logFile: undefined, stop: async () => undefined, restart: async () => { throw new Error("cannot restart a broker we did not start") } }
    }
    log(`KAFKA_BROKERS=${fromEnv} does not answer; starting a local broker instead`)
  }
  ensureJars()
  const dir = mkdtempSync(join(tmpdir(), "troupe-kafka-"))
  const [port, controllerPort] = [await freePort(), await freePort()]
  const props = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${join(dir, "data")}`,
    "num.partitions=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=4",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=4",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    // Cluster nodes detect a dead trading node within their session timeout (docs/cluster.md); the
    // broker's default minimum (6 s) would refuse the ~2 s the cluster issue asks for.
    "group.min.session.timeout.ms=1000",
    // Topics are created up front: kafkajs with KRaft brokers misbehaves on auto-create.
    "auto.create.topics.enable=false",
    "log.flush.interval.messages=9223372036854775807"
  ]
  writeFileSync(join(dir, "server.properties"), props.join("\n") + "\n")
  writeFileSync(
    join(dir, "log4j2.yaml"),
    ["Configuration:", "  Appenders:", "    Console:", "      name: STDOUT", "      PatternLayout:", '        Pattern: "[%d] %p %m (%c)%n"', "  Loggers:", "    Root:", "      level: WARN", "      AppenderRef:", "        - ref: STDOUT", ""].join("\n")
  )
  const classpath = `${libsDir}/*`
  const format = spawnSync(javaBin(), ["-cp", classpath, "kafka.tools.StorageTool", "format", `--cluster-id=${clusterId()}`, "-c", join(dir, "server.properties")], { encoding: "utf8" })
  if (format.error || format.status !== 0) {
    throw new Error(`formatting Kafka storage failed (is Java 17+ installed?): ${format.error?.message ?? format.stderr}`)
  }
  const logFile = join(dir, "broker.log")
  let child: ChildProcess | undefined

  const launch = (): void => {
    const out = openSync(logFile, "a")
    // A bash watchdog ties the broker's life to ours: if this process dies without its teardown,
    // the broker is stopped instead of lingering on the machine.
    const script = `"$0" "$@" & b=$!; trap 'kill $b 2>/dev/null; wait $b; exit 0' TERM INT; while kill -0 ${process.pid} 2>/dev/null && kill -0 $b 2>/dev/null; do sleep 1; done; kill $b 2>/dev/null; wait $b`
    child = spawn(
      "bash",
      ["-c", script, javaBin(), "-Xms256m", "-Xmx768m", "-XX:+UseSerialGC", `-Dlog4j2.configurationFile=${join(dir, "log4j2.yaml")}`, "-cp", classpath, "kafka.Kafka", join(dir, "server.properties")],
      { stdio: ["ignore", out, out] }
    )
    closeSync(out)
  }

  const waitReady = async (): Promise<void> => {
    if (!(await brokerAnswers([`127.0.0.1:${port}`], 90_000)) || !(await groupCoordinatorReady([`127.0.0.1:${port}`], 90_000))) {
      const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : ""
      throw new Error(`the Kafka broker did not answer within 90 s; log tail:\n${tail}`)
    }
  }

  const halt = async (): Promise<void> => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise<void>((r) => c.once("exit", () => r()))
    c.kill("SIGTERM")
    const timer = setTimeout(() => c.kill("SIGKILL"), 20_000)
    await exited
    clearTimeout(timer)
  }

  const started = Date.now()
  launch()
  await waitReady()
  log(`Kafka broker ready on 127.0.0.1:${port} in ${Date.now() - started} ms (log: ${logFile})`)
  return {
    brokers: [`127.0.0.1:${port}`],
    owned: true,
    logFile,
    restart: async (downMs = 0) => {
      await halt()
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs))
      launch()
      await waitReady()
    },
    stop: async () => {
      await halt()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A KRaft cluster of several brokers on loopback (every node broker and controller). */
export interface KafkaClusterService {
  readonly brokers: ReadonlyArray<string>
  readonly size: number
  /** kill -9 of broker i (0-based): the JVM itself, no clean shutdown. */
  readonly kill: (i: number) => Promise<void>
  /** Starts broker i again on its ports and data; resolves when the cluster answers through it. */
  readonly start: (i: number) => Promise<void>
  readonly running: (i: number) => boolean
  readonly stop: () => Promise<void>
}

/**
 * `size` brokers (3 for the cluster tests: replication factor 3, `min.insync.replicas` 2), each a
 * combined broker+controller with a static controller quorum, from the same Maven jars as the
 * single broker. Every topic created without a replication factor gets min(3, size) replicas.
 */
export const startKafkaCluster = async (size = 3): Promise<KafkaClusterService> => {
  ensureJars()
  const root = mkdtempSync(join(tmpdir(), "troupe-kafka-cluster-"))
  const ports: Array<{ port: number; controller: number }> = []
  for (let i = 0; i < size; i++) ports.push({ port: await freePort(), controller: await freePort() })
  const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p.controller}`).join(",")
  const rf = Math.min(3, size)
  const isr = Math.max(1, rf - 1)
  const id = clusterId()
  const dirs = ports.map((_, i) => join(root, `broker-${i + 1}`))
  ports.forEach((p, i) => {
    const dir = dirs[i] as string
    mkdirSync(dir, { recursive: true })
    const props = [
      "process.roles=broker,controller",
      `node.id=${i + 1}`,
      `controller.quorum.voters=${voters}`,
      `listeners=PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${p.port}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      `log.dirs=${join(dir, "data")}`,
      "num.partitions=1",
      `default.replication.factor=${rf}`,
      `min.insync.replicas=${isr}`,
      `offsets.topic.replication.factor=${rf}`,
      "offsets.topic.num.partitions=4",
      `transaction.state.log.replication.factor=${rf}`,
      `transaction.state.log.min.isr=${isr}`,
      "transaction.state.log.num.partitions=4",
      `share.coordinator.state.topic.replication.factor=${rf}`,
      `share.coordinator.state.topic.min.isr=${isr}`,
      "group.initial.rebalance.delay.ms=0",
      "group.min.session.timeout.ms=1000",
      "auto.create.topics.enable=false",
      // A replica that stopped answering leaves the ISR quickly, so acks=all writes go on with two.
      "replica.lag.time.max.ms=5000",
      "log.flush.interval.messages=9223372036854775807"
    ]
    writeFileSync(join(dir, "server.properties"), props.join("\n") + "\n")
    writeFileSync(
      join(dir, "log4j2.yaml"),
      ["Configuration:", "  Appenders:", "    Console:", "      name: STDOUT", "      PatternLayout:", '        Pattern: "[%d] %p %m (%c)%n"', "  Loggers:", "    Root:", "      level: WARN", "      AppenderRef:", "        - ref: STDOUT", ""].join("\n")
    )
    const format = spawnSync(javaBin(), ["-cp", `${libsDir}/*`, "kafka.tools.StorageTool", "format", `--cluster-id=${id}`, "-c", join(dir, "server.properties")], { encoding: "utf8" })
    if (format.error || format.status !== 0) throw new Error(`formatting Kafka storage of broker ${i + 1} failed: ${format.error?.message ?? format.stderr}`)
  })
  const children: Array<ChildProcess | undefined> = ports.map(() => undefined)
  const launch = (i: number): void => {
    const dir = dirs[i] as string
    const out = openSync(join(dir, "broker.log"), "a")
    // As for the single broker, a watchdog stops the JVM if this process dies; it also writes the
    // JVM's pid, so that `kill` can SIGKILL the broker itself.
    const script = `"$0" "$@" & b=$!; echo $b > ${join(dir, "jvm.pid")}; trap 'kill $b 2>/dev/null; wait $b; exit 0' TERM INT; while kill -0 ${process.pid} 2>/dev/null && kill -0 $b 2>/dev/null; do sleep 1; done; kill $b 2>/dev/null; wait $b`
    children[i] = spawn(
      "bash",
      ["-c", script, javaBin(), "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", `-Dlog4j2.configurationFile=${join(dir, "log4j2.yaml")}`, "-cp", `${libsDir}/*`, "kafka.Kafka", join(dir, "server.properties")],
      { stdio: ["ignore", out, out] }
    )
    closeSync(out)
  }
  const brokers = ports.map((p) => `127.0.0.1:${p.port}`)
  const running = (i: number): boolean => {
    const c = children[i]
    return c !== undefined && c.exitCode === null && c.signalCode === null
  }
  const kill = async (i: number): Promise<void> => {
    const c = children[i]
    if (c === undefined || !running(i)) return
    const exited = new Promise<void>((r) => c.once("exit", () => r()))
    const pid = Number(readFileSync(join(dirs[i] as string, "jvm.pid"), "utf8").trim())
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // already gone
    }
    await exited
  }
  const waitReady = async (only?: number): Promise<void> => {
    const via = only === undefined ? brokers : [brokers[only] as string]
    if (!(await brokerAnswers(via, 120_000)) || !(await groupCoordinatorReady(via, 120_000))) {
      throw new Error(`the Kafka cluster did not answer within 120 s (logs under ${root})`)
    }
  }
  const started = Date.now()
  for (let i = 0; i < size; i++) launch(i)
  await waitReady()
  log(`Kafka cluster of ${size} brokers ready on ${brokers.join(",")} in ${Date.now() - started} ms (logs under ${root})`)
  return {
    brokers,
    size,
    kill,
    running,
    start: async (i) => {
      if (running(i)) return
      launch(i)
      await waitReady(i)
    },
    stop: async () => {
      await Promise.all(
        children.map(async (c) => {
          if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
          const exited = new Promise<void>((r) => c.once("exit", () => r()))
          c.kill("SIGTERM")
          const timer = setTimeout(() => c.kill("SIGKILL"), 20_000)
          await exited
          clearTimeout(timer)
        })
      )
      rmSync(root, { recursive: true, force: true })
    }
  }
}
