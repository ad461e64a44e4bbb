/**
 * Structured logs, text or JSON (upstream --log-format, --log-level). Callers pass
 * fields; nothing here inspects them, so callers must never pass secret material:
 * objects are named by ns/name, keys by fingerprint, errors by code and message.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function parseLogLevel(s: string): LogLevel {
  const l = s.toLowerCase();
  if (l === 'debug' || l === 'info' || l === 'warn' || l === 'error') return l;
  if (l === 'warning') return 'warn';
  throw new RangeError(`unknown log level "${s}": use debug, info, warn or error`);
}

function textValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/**
 * `write` takes every line (tests). Without it, as upstream's --log-info-stdout (pkg/log's
 * MultiStreamHandler): with `infoToStdout` (upstream's default) debug and info lines go to
 * stdout and warnings and errors to stderr; without it, everything goes to stderr.
 */
export function createLogger(options: { level: LogLevel; format: 'text' | 'json'; write?: (line: string, level: LogLevel) => void; infoToStdout?: boolean; now?: () => Date }): Logger {
  const toStdout = options.infoToStdout ?? false;
  const write =
    options.write ??
    ((line: string, level: LogLevel) => void (toStdout && ORDER[level] <= ORDER.info ? process.stdout : process.stderr).write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < ORDER[options.level]) return;
    const time = now().toISOString();
    if (options.format === 'json') write(JSON.stringify({ time, level: level.toUpperCase(), msg, ...fields }), level);
    else
      write(
        [`time=${time}`, `level=${level.toUpperCase()}`, `msg=${textValue(msg)}`, ...Object.entries(fields).map(([k, v]) => `${k}=${textValue(v)}`)].join(' '),
        level,
      );
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
