/** Which pages a crawl may follow, relative to its seed URL. */
import ipaddr from 'ipaddr.js';

export type Scope = 'host' | 'domain' | 'any';

/**
 * The registrable domain, by the simple last-two-labels rule (a.b.example.com -> example.com). It is coarse for
 * public suffixes such as co.uk, where it widens "domain" to the whole suffix; use "host" there.
 */
export function registrableDomain(hostname: string): string {
  if (ipaddr.isValid(hostname.replace(/^\[|\]$/g, ''))) return hostname;
  return hostname.replace(/\.$/, '').split('.').slice(-2).join('.');
}

export function inScope(url: URL, seed: URL, scope: Scope): boolean {
  switch (scope) {
    case 'any':
      return true;
    case 'host':
      return url.hostname === seed.hostname;
    case 'domain':
      return registrableDomain(url.hostname) === registrableDomain(seed.hostname);
  }
}
