/**
 * `host:port` addresses, the one parser of the project's servers and tools (peer addresses,
 * bind addresses, the chaos proxy's CONNECT targets).
 */

/** `host:port` split. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const hostPortRe = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/;

/** Parse `host:port` (IPv6 hosts in brackets); undefined when malformed or the port is above 65535. */
export function parseHostPort(address: string): HostPort | undefined {
  const m = hostPortRe.exec(address);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/** Format a host and port as an address (brackets around IPv6 hosts). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True when `address` is `host:port`. */
export function isAddress(address: string): boolean {
  return parseHostPort(address) !== undefined;
}
