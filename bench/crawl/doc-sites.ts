/**
 * Real documentation sets packaged in Debian, as the crawl bench's real sites: their own HTML and images, which
 * the project did not make. Each is served from its installed folder; the packages are installed when missing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GNU_TIME } from './usage';

export interface DocSite {
  name: string;
  /** The Debian package that holds it. */
  pkg: string;
  /** The folder served as the site's root. */
  root: string;
  /** The seed, a path on the site. */
  seed: string;
}

export const DOC_SITES: Record<string, DocSite> = {
  'debian-reference': { name: 'Debian Reference (debian-reference-en)', pkg: 'debian-reference-en', root: '/usr/share/debian-reference', seed: '/index.en.html' },
  python: { name: 'Python 3.11 documentation (python3.11-doc)', pkg: 'python3.11-doc', root: '/usr/share/doc/python3.11/html', seed: '/index.html' },
  apache: { name: 'Apache HTTP Server 2.4 manual, all languages (apache2-doc)', pkg: 'apache2-doc', root: '/usr/share/doc/apache2-doc/manual', seed: '/index.html' },
  eigen: { name: 'Eigen 3.4 API reference, Doxygen (libeigen3-doc)', pkg: 'libeigen3-doc', root: '/usr/share/doc/libeigen3-dev/html', seed: '/index.html' },
  boost: { name: 'Boost 1.81 documentation, BoostBook (libboost1.81-doc)', pkg: 'libboost1.81-doc', root: '/usr/share/doc/libboost1.81-doc/doc/html', seed: '/index.html' },
};

const installed = (pkg: string) => {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed');
  } catch {
    return false;
  }
};

/** Installs the sites' packages (and GNU time, which measures CPU and peak RSS) with apt when missing. */
export function ensureInstalled(sites: DocSite[]): void {
  const missing = sites.map((s) => s.pkg).filter((pkg) => !installed(pkg));
  if (!fs.existsSync(GNU_TIME)) missing.push('time');
  if (missing.length === 0) return;
  process.stderr.write(`bench: installing ${missing.join(' ')}\n`);
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args: string[]) => execFileSync(asRoot[0] ?? args[0], asRoot.length ? args : args.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

/**
 * All the given sets on one host, each under its own folder (symbolic links to the installed trees), with a
 * one-page index linking to each seed: the big site for the memory target.
 */
export function combinedSite(sites: DocSite[], dir: string): DocSite {
  fs.mkdirSync(dir, { recursive: true });
  const keys = sites.map((s) => Object.keys(DOC_SITES).find((k) => DOC_SITES[k] === s)!);
  for (const [i, site] of sites.entries()) fs.symlinkSync(site.root, path.join(dir, keys[i]));
  const links = sites.map((s, i) => `<li><a href="${keys[i]}${s.seed}">${s.name}</a></li>`).join('\n');
  fs.writeFileSync(path.join(dir, 'index.html'), `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Documentation</title></head><body><ul>\n${links}\n</ul></body></html>\n`);
  return { name: `all of: ${keys.join(', ')}, one host`, pkg: '', root: dir, seed: '/index.html' };
}
