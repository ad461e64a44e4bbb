/**
 * The two GitOps tools' health rules for a SealedSecret, re-implemented from their sources so
 * the tests can apply them to status objects read from a real API server.
 *
 * - Argo CD: resource_customizations/bitnami.com/SealedSecret/health.lua (argoproj/argo-cd).
 *   Current version: a deletionTimestamp is Progressing ("Pending deletion..."); a status whose
 *   observedGeneration is not metadata.generation is Progressing (it describes an earlier
 *   generation); otherwise the first condition of type Synced decides: "False" is Degraded,
 *   "True" is Healthy, each with the condition's message; no Synced condition is Progressing
 *   ("Waiting for Sealed Secret to be decrypted"). The older version lacks the two first checks;
 *   `argoCdHealth(obj, { legacy: true })` applies it.
 * - kstatus (kubernetes-sigs/cli-utils pkg/kstatus/status, which Flux's health checks use):
 *   Compute() runs checkGenericProperties: a deletionTimestamp is Terminating; with
 *   metadata.generation and status.observedGeneration both present and different, InProgress
 *   (reason LatestGenerationNotObserved); then the first condition Reconciling=True is
 *   InProgress and the first Stalled=True is Failed (in condition order). SealedSecret has no
 *   legacy rule, so anything else is Current ("Resource is current"). Ready is not read by
 *   kstatus itself; Flux's own objects and its UI read it, so Ready must follow Synced.
 */
export interface HealthObject {
  metadata: { generation?: number; deletionTimestamp?: string | null; finalizers?: string[] | null };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export type ArgoHealth = { status: 'Healthy' | 'Degraded' | 'Progressing'; message: string };

export function argoCdHealth(obj: HealthObject, o: { legacy?: boolean } = {}): ArgoHealth {
  if (!o.legacy && obj.metadata.deletionTimestamp) {
    const f = obj.metadata.finalizers ?? [];
    return { status: 'Progressing', message: f.length ? `Pending deletion; blocked by finalizers: ${f.join(', ')}` : 'Pending deletion' };
  }
  const waiting: ArgoHealth = { status: 'Progressing', message: 'Waiting for Sealed Secret to be decrypted' };
  if (!o.legacy && (obj.metadata.generation === undefined || !obj.status || obj.status.observedGeneration !== obj.metadata.generation)) return waiting;
  for (const c of obj.status?.conditions ?? []) {
    // Lua's condition.message is nil when absent; Argo CD reports it as an empty message.
    if (c.type === 'Synced' && c.status === 'False') return { status: 'Degraded', message: c.message ?? '' };
    if (c.type === 'Synced' && c.status === 'True') return { status: 'Healthy', message: c.message ?? '' };
  }
  return waiting;
}

export type KstatusResult = { status: 'InProgress' | 'Failed' | 'Current' | 'Terminating'; message: string };

export function kstatus(obj: HealthObject & { kind?: string }): KstatusResult {
  if (obj.metadata.deletionTimestamp) return { status: 'Terminating', message: 'Resource scheduled for deletion' };
  const gen = obj.metadata.generation;
  const observed = obj.status?.observedGeneration;
  if (gen !== undefined && observed !== undefined && observed !== gen) {
    return { status: 'InProgress', message: `${obj.kind ?? 'SealedSecret'} generation is ${gen}, but latest observed generation is ${observed}` };
  }
  for (const c of obj.status?.conditions ?? []) {
    if (c.type === 'Reconciling' && c.status === 'True') return { status: 'InProgress', message: c.message ?? '' };
    if (c.type === 'Stalled' && c.status === 'True') return { status: 'Failed', message: c.message ?? '' };
  }
  return { status: 'Current', message: 'Resource is current' };
}
