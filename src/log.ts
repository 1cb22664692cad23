/**
 * Structured JSON-line logging. Lines go to stderr so that stdout stays a clean protocol
 * (the CLI prints the crawl result as the last line of stdout); FC collects both streams.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields` (e.g. the FC request id). */
  child(fields: LogFields): Logger;
}

export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => process.stderr.write(line + '\n');

/** Errors do not survive JSON.stringify; keep their message and stack. */
function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const cause = (value as { cause?: unknown }).cause;
    return { name: value.name, message: value.message, stack: value.stack, ...(cause ? { cause: serialise(cause) } : {}) };
  }
  return value;
}

export function createLogger(base: LogFields = {}, sink: LogSink = stderrSink, minLevel: LogLevel = 'debug'): Logger {
  const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
  const write = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (order[level] < order[minLevel]) return;
    const entry: LogFields = { time: new Date().toISOString(), level, msg, ...base };
    for (const [k, v] of Object.entries(fields)) entry[k] = serialise(v);
    sink(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, sink, minLevel),
  };
}

/** Logging level from LOG_LEVEL (default info), so local runs are not flooded with debug lines. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const v = env.LOG_LEVEL;
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : 'info';
}
