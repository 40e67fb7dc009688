/** The daemon's logger: injected (the CLI passes a consola instance tagged `daemon`; tests a quiet one). */
export interface Logger {
  debug?(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
