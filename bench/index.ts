/**
 * `npm run bench`: prints one JSON summary of the project's speed figures, each with its target and `meetsTarget`.
 * Decode rate and the receiving path's CPU and allocation per frame without sockets (in process); receiver throughput and latency of a do-nothing ACK server (the machine's limit) and
 * of each acceptor variant with its ratio to that limit (bridge here, load generator in a child process); delivery
 * rate to the API emulator; RSS of a bridge with 10,000 idle connections; TCP ACK latency under a UDP flood; RSS and
 * start-up time with 1,000,000 pending outbox events; cluster mode (R1 and R3 on NATS JetStream) next to the journal.
 * `BENCH_QUICK=1` shortens every phase for a smoke run; `BENCH_ONLY=limit,fileSink,journal` runs only the named
 * sections (decode, duplicates, pipeline, receiver variants by name, cluster or clusterR1 / clusterR3 alone, delivery, connections, udpFlood, backlog) for a
 * focused measurement (`BENCH_ONLY=limit,journal,cluster` for the cluster figures).
 */
import { cpus } from 'node:os';
import { benchCluster } from './cluster.js';
import { benchBacklog } from './pending-memory.js';
import { benchConnections } from './connections.js';
import { benchDecode } from './decode.js';
import { benchDuplicates } from './duplicates.js';
import { benchDelivery } from './delivery.js';
import { benchPipeline } from './pipeline.js';
import {
  benchReceiver,
  FILE_SINK_VARIANT,
  FILE_SINK_WARN_LOG_VARIANT,
  JOURNAL_BACKLOG_VARIANT,
  JOURNAL_VARIANT,
  LIMIT_VARIANT,
  type ReceiverFigures,
  type ReceiverVariant,
} from './receiver.js';
import { QUICK } from './setup.js';
import { benchUdpFlood } from './udp-flood.js';

const RECEIVER_VARIANTS: ReceiverVariant[] = [FILE_SINK_VARIANT, JOURNAL_VARIANT, JOURNAL_BACKLOG_VARIANT, FILE_SINK_WARN_LOG_VARIANT];

const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const runs = (section: string) => !only || only.has(section);

const summary: Record<string, unknown> = { node: process.version, cpus: cpus().length, quick: QUICK, ...(only ? { only: [...only] } : {}) };
if (runs('decode')) summary.decode = benchDecode(QUICK ? 0.3 : 1.5);
if (runs('duplicates')) summary.duplicates = await benchDuplicates(QUICK);
if (runs('pipeline')) summary.pipeline = await benchPipeline();
// The limit first, on the same load generator: every bridge figure is printed with its ratio to the limit's.
const limit = runs(LIMIT_VARIANT.name) ? await benchReceiver(LIMIT_VARIANT) : null;
const receiver: Record<string, ReceiverFigures> = limit ? { [LIMIT_VARIANT.name]: limit } : {};
for (const variant of RECEIVER_VARIANTS) if (runs(variant.name)) receiver[variant.name] = await benchReceiver(variant, limit);
if (Object.keys(receiver).length > 0) summary.receiver = receiver;
// Cluster mode next to the local journal of the same run (ratios to both).
const clusterRuns = { r1: runs('cluster') || runs('clusterR1'), r3: runs('cluster') || runs('clusterR3') };
if (clusterRuns.r1 || clusterRuns.r3) summary.cluster = await benchCluster(limit, receiver[JOURNAL_VARIANT.name] ?? null, clusterRuns);
if (runs('delivery')) summary.delivery = await benchDelivery();
if (runs('connections')) summary.connections = await benchConnections();
if (runs('udpFlood')) summary.udpFlood = await benchUdpFlood();
if (runs('backlog')) summary.backlog = await benchBacklog();
console.log(JSON.stringify(summary, null, 2));
