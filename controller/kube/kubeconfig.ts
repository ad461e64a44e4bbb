/**
 * client-node's KubeConfig (kubeconfig files, in-cluster service accounts, exec and OIDC
 * plugins), imported from its own module rather than the package index: the index loads
 * every generated API class, about 60 MB of the controller's memory for code it never
 * runs. The controller's bundles include this module tree-shaken (scripts/build.mjs).
 */
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';
