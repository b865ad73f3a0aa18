/**
 * Key → partition, computed by us rather than by kafkajs so that the writer knows each record's
 * partition before the broker answers (a record's offset is its partition's `baseOffset` plus its
 * index within that partition in the produce request).
 *
 * The function is Kafka's default for keyed records — `toPositive(murmur2(utf8(key))) % n`, the
 * Java client's `BuiltInPartitioner.partitionForKey` and kafkajs's `Partitioners.DefaultPartitioner`
 * — so Java, librdkafka (`murmur2_random`) and kafkajs producers writing the same key land on the
 * same partition. It depends on the partition count only: adding partitions to a topic moves keys.
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995

const encoder = new TextEncoder()

/** Kafka's murmur2 (32-bit, seed 0x9747b28c) with Java int arithmetic; returns a signed int. */
export const murmur2 = (data: Uint8Array): number => {
  const length = data.length
  let h = SEED ^ length
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = (data[i4] as number) | ((data[i4 + 1] as number) << 8) | ((data[i4 + 2] as number) << 16) | ((data[i4 + 3] as number) << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  const tail = length & ~3
  const rest = length % 4
  if (rest === 3) h ^= (data[tail + 2] as number) << 16
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8
  if (rest >= 1) {
    h ^= data[tail] as number
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** The partition Kafka's default partitioner picks for a keyed record. */
export const partitionForKey = (key: string, partitions: number): number => (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions
