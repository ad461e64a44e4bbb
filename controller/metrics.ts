/**
 * Prometheus metrics (prom-client) with upstream's names
 * (pkg/controller/metrics.go, namespace sealed_secrets_controller), plus queue
 * depth, unseal latency, RSA operations, keys and SealedSecrets per key.
 * Labels carry names, namespaces, reasons and key fingerprints, never values.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  buildInfo: Gauge<'revision'>;
  unsealRequests: Counter;
  unsealErrors: Counter<'reason' | 'namespace'>;
  conditionInfo: Gauge<'namespace' | 'name' | 'condition' | 'ss_app_kubernetes_io_instance'>;
  httpRequests: Counter<'path' | 'code' | 'method'>;
  httpDuration: Histogram<'path' | 'method'>;
  queueDepth: Gauge<'lane'>;
  unsealDuration: Histogram;
  rsaOperations: Counter;
  keys: Gauge;
  sealedSecretsPerKey: Gauge<'fingerprint'>;
  isLeader: Gauge;
  leaderElectionForbidden: Gauge;
  reconciles: Counter<'outcome'>;
  keysByState: Gauge<'state'>;
  keyAge: Gauge<'fingerprint'>;
  nextRotation: Gauge;
  keyRenewalOverdue: Gauge;
  certificateExpiry: Gauge<'key'>;
  keyStoreErrors: Counter<'store'>;
}

export function createMetrics(revision: string): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const p = 'sealed_secrets_controller_';
  const m: Metrics = {
    registry,
    buildInfo: new Gauge({ name: `${p}build_info`, help: 'Build information.', labelNames: ['revision'], registers: [registry] }),
    unsealRequests: new Counter({ name: `${p}unseal_requests_total`, help: 'Total number of sealed secret unseal requests', registers: [registry] }),
    unsealErrors: new Counter({ name: `${p}unseal_errors_total`, help: 'Total number of sealed secret unseal errors by reason', labelNames: ['reason', 'namespace'], registers: [registry] }),
    conditionInfo: new Gauge({
      name: `${p}condition_info`,
      help: 'Current SealedSecret condition status. Values are -1 (false), 0 (unknown or absent), 1 (true)',
      labelNames: ['namespace', 'name', 'condition', 'ss_app_kubernetes_io_instance'],
      registers: [registry],
    }),
    httpRequests: new Counter({ name: `${p}http_requests_total`, help: 'Total number of HTTP requests by path, code and method', labelNames: ['path', 'code', 'method'], registers: [registry] }),
    httpDuration: new Histogram({ name: `${p}http_request_duration_seconds`, help: 'HTTP request duration', labelNames: ['path', 'method'], registers: [registry] }),
    queueDepth: new Gauge({ name: `${p}queue_depth`, help: 'SealedSecrets waiting in the work queue, by lane (high: new and changed, low: resync)', labelNames: ['lane'], registers: [registry] }),
    unsealDuration: new Histogram({
      name: `${p}unseal_duration_seconds`,
      help: 'Time a worker takes to decrypt the items of one SealedSecret it unseals (template rendering is left out: its time may depend on the values)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    rsaOperations: new Counter({ name: `${p}rsa_private_operations_total`, help: 'RSA private-key operations spent unsealing', registers: [registry] }),
    keys: new Gauge({ name: `${p}keys`, help: 'Sealing keys held by the controller', registers: [registry] }),
    sealedSecretsPerKey: new Gauge({ name: `${p}sealed_secrets_per_key`, help: 'SealedSecrets whose values a key opened, by key fingerprint', labelNames: ['fingerprint'], registers: [registry] }),
    isLeader: new Gauge({ name: `${p}is_leader`, help: '1 when this replica holds the leader lease, or runs unelected', registers: [registry] }),
    leaderElectionForbidden: new Gauge({
      name: `${p}leader_election_forbidden`,
      help: '1 when the Lease is forbidden to the controller (RBAC without lease rights, e.g. upstream\'s chart) and it runs unelected: run one replica only, or grant get, create and update on leases in the controller namespace',
      registers: [registry],
    }),
    keysByState: new Gauge({ name: `${p}keys_by_state`, help: 'Sealing keys by state: active (may seal) or pending (decrypts, seals after its activation time)', labelNames: ['state'], registers: [registry] }),
    keyAge: new Gauge({ name: `${p}key_age_seconds`, help: 'Age of each sealing key, by fingerprint', labelNames: ['fingerprint'], registers: [registry] }),
    nextRotation: new Gauge({ name: `${p}next_key_rotation_seconds`, help: 'Seconds until the next scheduled key renewal (negative: overdue; absent: renewal disabled)', registers: [registry] }),
    keyRenewalOverdue: new Gauge({ name: `${p}key_renewal_overdue_seconds`, help: 'Seconds the scheduled key renewal is overdue without a new key (0: on schedule; absent: renewal disabled). Alert when above a few minutes', registers: [registry] }),
    certificateExpiry: new Gauge({
      name: `${p}certificate_expiry_timestamp_seconds`,
      help: 'notAfter (Unix seconds) of the certificate served on /v1/cert.pem (key="sealing") and of the newest key\'s (key="newest")',
      labelNames: ['key'],
      registers: [registry],
    }),
    keyStoreErrors: new Counter({ name: `${p}key_store_errors_total`, help: 'Failed calls to the key store (Kubernetes or Vault)', labelNames: ['store'], registers: [registry] }),
    reconciles: new Counter({ name: `${p}reconciles_total`, help: 'Reconciles by outcome (synced, unchanged, retry, retry-limited, failed, gone)', labelNames: ['outcome'], registers: [registry] }),
  };
  m.buildInfo.set({ revision }, 1);
  m.unsealRequests.inc(0);
  for (const reason of ['fetch', 'unseal', 'update', 'unmanaged', 'status']) m.unsealErrors.inc({ reason, namespace: '' }, 0);
  return m;
}
