/** Which pages a crawl may follow, relative to its seed URL. */
import { getDomain } from 'tldts';

export type Scope = 'host' | 'domain' | 'any';

/**
 * The registrable domain by the Public Suffix List, private suffixes included: news.bbc.co.uk -> bbc.co.uk,
 * alice.github.io stays alice.github.io. An IP address or a single-label host stands for itself.
 */
export function registrableDomain(hostname: string): string {
  return getDomain(hostname, { allowPrivateDomains: true }) ?? hostname;
}

/** `www.` names the same site as the bare host: a seed of example.com that redirects to www.example.com stays in scope. */
const siteHost = (hostname: string) => (hostname.startsWith('www.') ? hostname.slice(4) : hostname);

export function inScope(url: URL, seed: URL, scope: Scope): boolean {
  switch (scope) {
    case 'any':
      return true;
    case 'host':
      return siteHost(url.hostname) === siteHost(seed.hostname);
    case 'domain':
      return registrableDomain(url.hostname) === registrableDomain(seed.hostname);
  }
}
