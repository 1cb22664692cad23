/**
 * SSRF guard: only public unicast addresses may be fetched, unless allowPrivateNetworks says otherwise.
 * Literal IP hosts are checked before any socket exists; names are checked inside the connection's DNS lookup,
 * and the socket connects to exactly the address that was checked, so DNS rebinding cannot slip past.
 */
import dns from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { LookupFunction } from 'node:net';

export type AddressPolicy = boolean | readonly string[];

export class RefusedAddressError extends Error {
  readonly code = 'ERR_SSRF_REFUSED';
}

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

/** IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it stands for. */
function canonical(address: string): Parsed {
  const ip = ipaddr.parse(address);
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

function ranges(policy: readonly string[]): [Parsed, number][] {
  return policy.map((entry) => (entry.includes('/') ? ipaddr.parseCIDR(entry) : [canonical(entry), canonical(entry).kind() === 'ipv4' ? 32 : 128]));
}

/** Builds the check once per run: returns why an address is refused, or null when it may be fetched. */
export function addressChecker(policy: AddressPolicy): (address: string) => string | null {
  if (policy === true) return () => null;
  const allowed = policy === false ? [] : ranges(policy);
  return (address) => {
    const ip = canonical(address);
    // Only global unicast is public; every other range (loopback, private, link-local incl. 169.254.169.254,
    // CGNAT 100.64/10 incl. 100.100.100.200, ULA, multicast, reserved, NAT64, ...) is refused.
    const range = ip.range();
    if (range === 'unicast') return null;
    if (allowed.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return null;
    return `refused ${range} address ${ip.toString()} (allowPrivateNetworks)`;
  };
}

/** For a host that is an IP literal, the refusal reason (checked before connecting); null for names and allowed IPs. */
export function refuseLiteralHost(hostname: string, check: (address: string) => string | null): string | null {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? check(bare) : null;
}

/** A DNS lookup for net.connect that resolves every address of the name and fails unless all of them are allowed. */
export function guardedLookup(check: (address: string) => string | null): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refusal = addresses.map((a) => check(a.address)).find((r) => r !== null);
      if (refusal) return callback(new RefusedAddressError(`${hostname}: ${refusal}`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
