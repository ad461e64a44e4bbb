/** The e2e tests use the same local-cluster harness as `npm run demo`. */
export {
  CONTROLLER_BIN,
  ROOT,
  applyManifests,
  clientFor,
  serviceAccountKubeconfig,
  startCluster,
  startController,
  waitFor,
  type Cluster,
  type ControllerProcess,
} from '../../scripts/local-cluster-harness.js';
