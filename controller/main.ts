#!/usr/bin/env node
/** sealed-secrets-controller: assembles the controller from its parts and runs it until SIGTERM. */
import { hostname, availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { KubeConfig } from './kube/kubeconfig.js';
import { LABEL_SEALING_KEY, argsFromEnv, describeForeignError, type SealedSecret } from '../src/index.js';
import { CONTROLLER_FLAGS, buildControllerParser, configFromArgs, type ControllerConfig } from './config.js';
import { assembleController } from './assemble.js';
import { EventRecorder } from './events.js';
import { createMainServer, createMetricsServer, parseListenAddr, readiness } from './http.js';
import { KubeClient, paths } from './kube/client.js';
import { Informer } from './kube/informer.js';
import { KeyManager } from './keys.js';
import type { KeyStore } from './keystore/key-store.js';
import { KubernetesKeyStore } from './keystore/kubernetes-key-store.js';
import type { VaultKeyStore } from './keystore/vault-key-store.js';
import { LeaderElector } from './leader.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics } from './metrics.js';
import { UnsealPool } from './unseal-pool.js';

declare const __KUBESEAL_VERSION__: string | undefined;
const VERSION = typeof __KUBESEAL_VERSION__ === 'string' ? __KUBESEAL_VERSION__ : '0.0.0-dev';

async function parseConfig(): Promise<ControllerConfig | number> {
  const argv = [...argsFromEnv(process.argv.slice(2), process.env, CONTROLLER_FLAGS), ...process.argv.slice(2)];
  const parser = buildControllerParser(argv).version('version', 'Print version information and exit', VERSION);
  let out = '';
  let failure: string | undefined;
  parser.fail((msg, err) => {
    failure = msg || err?.message;
  });
  const args = await parser.parseAsync(argv, {}, (_e: unknown, _a: unknown, o: string) => {
    out = o;
  });
  if (failure) {
    process.stderr.write(`error: ${failure}\n`);
    return 2;
  }
  if (out) {
    process.stdout.write(out + '\n');
    return 0;
  }
  try {
    return configFromArgs(args as Record<string, unknown>, process.env, availableParallelism());
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 2;
  }
}

function listen(server: Server, addr: string, log: Logger, what: string): Promise<void> {
  const { host, port } = parseListenAddr(addr);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address();
      log.info(`${what} listening`, { address: typeof a === 'string' ? a : `${a?.address}:${a?.port}` });
      resolve();
    });
  });
}

async function retry<T>(what: string, log: Logger, f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      const wait = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
      log.warn(`${what} failed; retrying`, { attempt, inMs: wait, error: (e as Error).message });
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

async function main(): Promise<number | undefined> {
  const config = await parseConfig();
  if (typeof config === 'number') return config;
  const log = createLogger({ level: config.logLevel, format: config.logFormat, infoToStdout: config.logInfoStdout });
  const metrics = createMetrics(VERSION);

  const kc = new KubeConfig();
  try {
    if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    log.error('cannot load the Kubernetes configuration', { kubeconfig: config.kubeconfig ?? '(default)', error: describeForeignError(e) });
    return 1;
  }
  const client = new KubeClient(kc, { qps: config.kubeclientQps, burst: config.kubeclientBurst, userAgent: `sealed-secrets-ts/${VERSION}` });
  const pool = new UnsealPool({ filename: join(__dirname, 'unseal-worker.cjs'), workers: config.workers, acceptDeprecatedV1Data: config.acceptDeprecatedV1Data });
  let store: KeyStore;
  let vaultStore: VaultKeyStore | undefined;
  if (config.keyStore === 'vault') {
    // Loaded only here: node-vault and its HTTP stack cost about 18 MB of memory.
    const { VaultKeyStore } = await import('./keystore/vault-key-store.js');
    const v = config.vault;
    let token = v.tokenFromEnv;
    try {
      if (!token && v.tokenFile) token = readFileSync(v.tokenFile, 'utf8').trim();
    } catch {
      log.error('cannot read the Vault token file', { file: v.tokenFile });
      return 1;
    }
    if (!token && !v.authRole) {
      log.error('--key-store vault needs a token (VAULT_TOKEN or --vault-token-file) or Kubernetes auth (--vault-auth-role)');
      return 1;
    }
    store = vaultStore = new VaultKeyStore(
      {
        address: v.address!,
        skipVerify: v.skipVerify,
        token,
        namespace: v.namespace,
        caCert: v.caCertFile ? readFileSync(v.caCertFile, 'utf8') : undefined,
        kubernetesRole: v.authRole,
        kubernetesMount: v.authMount,
        kubernetesJwt: () => readFileSync(v.jwtFile, 'utf8'),
      },
      { mount: v.kvMount, pathPrefix: v.pathPrefix },
    );
    log.info('key store: Vault', { address: v.address, mount: v.kvMount, prefix: v.pathPrefix, auth: v.authRole ? `kubernetes role ${v.authRole}` : 'token' });
    if (v.skipVerify) log.warn('VAULT_SKIP_VERIFY is set: the Vault server certificate is not verified', { address: v.address });
  } else {
    store = new KubernetesKeyStore(client, { namespace: config.namespace, keyPrefix: config.keyPrefix, labels: config.privateKeyLabels, annotations: config.privateKeyAnnotations });
  }
  const keys = new KeyManager(store, pool, log, metrics, {
    keySize: config.keySize,
    keyTtlMs: config.keyTtlMs,
    myCn: config.myCn,
    renewPeriodMs: config.keyRenewPeriodMs,
    cutoffTime: config.keyCutoffTime,
    orderBy: config.keyOrderPriority,
    activationDelayMs: config.keyActivationDelayMs,
  });
  const { controller, reconciler } = assembleController({
    api: client,
    pool,
    log,
    metrics,
    macKey: () => keys.macKey(),
    events: new EventRecorder(client, log, () => new Date(), hostname()),
    reconciler: { updateStatus: config.updateStatus, maxUnsealRetries: config.maxUnsealRetries, oldGcBehavior: config.oldGcBehavior },
    controller: { namespaces: config.namespaces, labelSelector: config.labelSelector, skipRecreate: config.skipRecreate, concurrency: config.concurrency },
  });

  let informersSynced = false;
  // Declared before the HTTP server that reads it (probes are answered from the start).
  let elector: LeaderElector | undefined;
  const httpDeps = {
    certificatePem: () => keys.certificatePem(),
    // The key store's error text is logged where it happens (reload's callers), never served.
    ready: () => readiness({ keys: keys.size, keyStoreFailing: Boolean(keys.lastReload.error), cachesSynced: informersSynced, leader: elector ? elector.leading || elector.forbidden : true, unelected: elector?.forbidden ?? false }),
    verify: (ss: SealedSecret) => pool.verify(ss),
    rotate: (ss: SealedSecret) => pool.reencrypt(ss, keys.sealingKey()?.fingerprint),
    metrics,
    log,
    rateLimit: config.rateLimit,
    rateLimitBurst: config.rateLimitBurst,
    trustedProxies: config.trustedProxies,
    // verify and rotate hold at most one pool task fewer than the pool has threads.
    // One worker is always left to reconciles: HTTP work cannot hold every worker.
    maxInFlight: Math.max(1, config.workers - 1),
    readTimeoutMs: config.readTimeoutMs,
    writeTimeoutMs: config.writeTimeoutMs,
  };
  const mainServer = createMainServer(httpDeps);
  const metricsServer = createMetricsServer(httpDeps);
  // HTTP first, so probes answer while caches fill (upstream #697, #1959).
  await listen(mainServer, config.listenAddr, log, 'HTTP server');
  await listen(metricsServer, config.listenMetricsAddr, log, 'metrics server');

  // Watch the key Secrets: keys added, imported or rotated by another replica are loaded without a restart.
  const keyInformer = new Informer(client, {
    path: paths.secrets(config.namespace),
    labelSelector: `${LABEL_SEALING_KEY}=active`,
    onError: (e) =>
      log.warn('key Secret watch failed; retrying', {
        error: (e as Error).message,
        ...((e as { status?: number }).status === 403 ? { hint: `grant list and watch on secrets in namespace ${config.namespace}, or run with --watch-for-secrets=false (upstream's default)` } : {}),
      }),
    onHandlerError: (e, event, key) => log.error('key Secret handler failed', { event, key, error: (e as Error)?.name ?? typeof e }),
  });
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  const reloadKeys = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void keys.reload().catch((e: unknown) => log.warn('key reload failed', { error: (e as Error).message })), 200);
  };
  keyInformer.on({ add: reloadKeys, update: reloadKeys, delete: reloadKeys });
  keys.onChange(() => controller.requeueAll('low'));
  await retry(`loading sealing keys from the ${store.kind} key store`, log, () => keys.reload());
  // --watch-for-secrets (default true here, false upstream): without it, keys are read at start
  // and after this replica's own rotations only, as upstream.
  if (store.kind === 'kubernetes' && config.watchForSecrets) keyInformer.start();
  // Vault has no watch: poll. Failures keep the keys held and are counted and logged.
  const poll = setInterval(() => {
    keys.updateMetrics();
    // SealedSecrets per key, from which key opened each one (remembered, or recorded on its Secret).
    const perKey = new Map<string, number>(keys.keys.map((k) => [k.fingerprint, 0]));
    for (const fps of reconciler.openedBy.values()) for (const fp of fps) perKey.set(fp, (perKey.get(fp) ?? 0) + 1);
    metrics.sealedSecretsPerKey.reset();
    for (const [fp, n] of perKey) metrics.sealedSecretsPerKey.set({ fingerprint: fp }, n);
    if (store.kind !== 'kubernetes') void keys.reload().catch((e: unknown) => log.warn('key store reload failed; serving from the keys in memory', { error: (e as Error).message }));
  }, Math.min(config.keyStorePollIntervalMs, 30_000));
  poll.unref();

  controller.startInformers();
  void controller.synced().then(() => {
    informersSynced = true;
    log.info('caches synced', { sealedSecrets: controller.sealedSecrets.reduce((n, i) => n + i.cache.size, 0) });
  });

  // Once per stretch of leading: running unelected and then winning the Lease (the rights were
  // granted meanwhile) must not start a second key renewal.
  let leadingStarted = false;
  const lead = async () => {
    metrics.leaderElectionForbidden.set(elector?.forbidden ? 1 : 0);
    if (leadingStarted) return;
    leadingStarted = true;
    metrics.isLeader.set(1);
    await retry('ensuring a sealing key', log, () => keys.ensureKeys());
    keys.startRenewal();
    await controller.startWorkers();
  };
  const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
  if (config.leaderElect) {
    elector = new LeaderElector(client, log, {
      namespace: config.namespace,
      name: config.leaseName,
      identity,
      leaseDurationMs: config.leaseDurationMs,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
    });
    elector.run(
      () => void lead().catch((e: unknown) => log.error('starting as leader failed', { error: (e as Error).message })),
      () => {
        // Another replica may take over: stop writing, keep the caches and the HTTP endpoints,
        // and campaign again (an API server outage longer than the renew deadline ends here too).
        log.warn('leadership lost; reconciling paused until this replica leads again');
        metrics.isLeader.set(0);
        metrics.leaderElectionForbidden.set(0);
        leadingStarted = false;
        keys.stopRenewal();
        controller.pauseWorkers();
      },
      (e) => {
        // Upstream's RBAC (its Helm chart and controller.yaml) grants no Lease rights, and upstream
        // runs one replica without election. Doing the same beats reconciling nothing while ready:
        // said loudly here, in leader_election_forbidden and in /readyz's detail.
        metrics.leaderElectionForbidden.set(1);
        log.error('leader election is forbidden: running unelected, as upstream does; run ONE replica only (two would race on Secrets and keys)', {
          lease: `${config.namespace}/${config.leaseName}`,
          error: e.message,
          hint: `grant get, create and update on leases (group coordination.k8s.io) in namespace ${config.namespace} to the controller's ServiceAccount (deploy/base/rbac.yaml's Role does), or run with --leader-elect=false to silence this`,
        });
        if (!elector!.leading) void lead().catch((err: unknown) => log.error('starting unelected failed', { error: (err as Error).message }));
      },
    );
  } else {
    await lead();
  }

  process.on('SIGUSR1', () => {
    if (elector && !elector.leading && !elector.forbidden) return log.warn('SIGUSR1 ignored: only the leader generates keys');
    void keys.rotate('SIGUSR1').catch((e: unknown) => log.error('key rotation on SIGUSR1 failed', { error: (e as Error).message }));
  });
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info('shutting down', { signal: sig });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  clearInterval(poll);
  controller.stop();
  keyInformer.stop();
  vaultStore?.close();
  keys.stopRenewal();
  await elector?.stop();
  mainServer.close();
  metricsServer.close();
  await pool.close();
  client.close();
  return 0;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
    if (code !== 0 && code !== undefined) process.exit(code);
    else setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  },
  (e: unknown) => {
    process.stderr.write(`fatal: ${(e as Error)?.message ?? 'unknown error'}\n`);
    process.exit(1);
  },
);
