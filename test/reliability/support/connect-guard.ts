/**
 * Preloaded (node --import) into every process the suite starts. It records each outgoing TCP connection in
 * RELIABILITY_CONNECT_LOG and refuses any that is not loopback before a packet leaves, so even a crawler bug
 * cannot send traffic off this machine. The tests read the log to prove that no such attempt was made.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { appendJsonLine, readJsonLines } from './json-lines';

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;

export interface ConnectAttempt {
  pid: number;
  host: string;
  port: string;
  allowed: boolean;
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (!ipaddr.isValid(bare)) return false;
  const parsed = ipaddr.process(bare);
  return parsed.range() === 'loopback';
}

/** Socket#connect takes (options), (port, host), (path) or, from net.connect, an internal [options, cb] array. */
function destination(args: unknown[]): { host: string; port: string } | null {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === 'object') {
    const o = first as { host?: string; port?: number | string; path?: string };
    if (o.path !== undefined && o.port === undefined) return null;
    return { host: o.host ?? 'localhost', port: String(o.port) };
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: String(first) };
  }
  return null;
}

function install(logFile: string | undefined): void {
  const original = net.Socket.prototype.connect as unknown as Connect;
  const guarded: Connect = function (this: net.Socket, ...args: unknown[]) {
    const dest = destination(args);
    if (dest) {
      const allowed = isLoopbackHost(dest.host);
      if (logFile) appendJsonLine(logFile, { pid: process.pid, ...dest, allowed } satisfies ConnectAttempt);
      if (!allowed) {
        process.nextTick(() => this.destroy(new Error(`reliability guard refused a connection to ${dest.host}:${dest.port}`)));
        return this;
      }
    }
    return original.apply(this, args);
  };
  net.Socket.prototype.connect = guarded as unknown as typeof net.Socket.prototype.connect;
}

export function readConnectLog(logFile: string): ConnectAttempt[] {
  return readJsonLines<ConnectAttempt>(logFile);
}

if (process.env.RELIABILITY_GUARD === '1') install(process.env.RELIABILITY_CONNECT_LOG);
