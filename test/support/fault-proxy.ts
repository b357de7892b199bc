/**
 * The TCP fault proxy for tests: one proxy per directed link (A dials B through proxy A->B), so
 * a partition is "cut every proxy crossing it" and a one-way cut is cutting one direction's
 * proxy. The implementation lives in chaos/fault-proxy.ts (with the HTTP CONNECT front the
 * chaos runner uses); this module keeps the tests' import path.
 */
export { FaultProxy, FaultNetwork, ConnectProxy, PROXY_BUFFER_BYTES_MAX } from '../../chaos/fault-proxy.ts';
export type { LinkMode, LinkRule } from '../../chaos/fault-proxy.ts';
