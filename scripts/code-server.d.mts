// Types for scripts/code-server.mjs, so TypeScript (test/e2e/harness.ts) can import it.
export const CODE_SERVER_VERSION: string;
export const repoRoot: string;
export const cacheDir: string;
export const installDir: string;
export const testSettings: Record<string, unknown>;

export class SetupError extends Error {}

export function isInstalled(): boolean;
export function ensureCodeServer(options?: { quiet?: boolean }): { dir: string; installed: boolean; seconds: number };
export function packageVsix(options?: { isolated?: boolean }): { vsix: string; cleanup: () => void };
export function prepareProfile(options: { vsix: string; userDataDir: string; extensionsDir: string; folder: string; settings?: Record<string, unknown>; demo?: boolean }): void;

export interface RunningServer {
  url: string;
  port: number;
  pid: number;
  /** Seconds from spawn until it listened. */
  seconds: number;
  output(): string;
  stop(): Promise<void>;
}
export function startServer(options: { port?: number; userDataDir: string; extensionsDir: string; folder: string; onOutput?: (chunk: string) => void }): Promise<RunningServer>;
