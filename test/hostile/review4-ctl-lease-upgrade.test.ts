/**
 * review4 (low, not fixed: a product decision): the default Lease name now follows
 * --key-prefix and --label-selector. Before this change it was always
 * "sealed-secrets-controller" (21cc88a: DEFAULTS['leader-elect-id']). Upgrading a deployment
 * run with a non-default --key-prefix (or a --label-selector) by a rolling update (the
 * Deployment's default strategy, 2 replicas in deploy/base) puts an old replica leading
 * "sealed-secrets-controller" beside a new one leading "sealed-secrets-controller-<prefix>":
 * two writers (Secrets, status, key renewal) until the rollout ends, and the two versions
 * disagree on the owner annotation (the old one strips it, the new one adds it), so each
 * rewrites what the other wrote. Fails while a replica of the previous release and one of
 * this release, given the same flags, campaign on different Leases.
 */
import { describe, expect, it } from 'vitest';
import { defaultLeaseName } from '../../controller/config.js';

const PREVIOUS_RELEASE_LEASE = 'sealed-secrets-controller';

describe('a rolling upgrade with the same flags', () => {
  it.each([
    ['--key-prefix other-key', 'other-key', undefined],
    ['--label-selector shard=a', 'sealed-secrets-key', 'shard=a'],
  ])('%s: old and new replicas campaign on one Lease', (_n, prefix, selector) => {
    expect(defaultLeaseName(prefix, selector)).toBe(PREVIOUS_RELEASE_LEASE);
  });
});
