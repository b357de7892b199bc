/** Free loopback ports for tests: see deploy/ports.ts (below the ephemeral range, reserved per process). */
export { freePort, freePorts } from '../../deploy/ports.ts';
