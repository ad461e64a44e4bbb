export interface LockedPackage {
  name: string;
  version: string;
}
export type AuditOutcome = 'vulnerable' | 'clean' | 'deprecated-insecure' | 'deprecations-clean' | 'partial' | 'unaudited';
export interface Vulnerabilities {
  critical?: number;
  high?: number;
  moderate?: number;
  low?: number;
}
export const CANARY: LockedPackage;
export const SECURITY_NOTICE: RegExp;
export function runtimePackages(lock: { packages?: Record<string, { name?: string; version?: string; dev?: boolean; devOptional?: boolean; link?: boolean; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }> }, bundled?: readonly string[]): LockedPackage[];
export function decide(o: {
  npmAudit: () => Promise<{ vulnerabilities?: Vulnerabilities; why?: string }>;
  versionDoc: (name: string, version: string) => Promise<{ deprecated?: unknown; [k: string]: unknown } | undefined>;
  lock: Parameters<typeof runtimePackages>[0];
  bundled?: readonly string[];
  strict?: boolean;
  concurrency?: number;
}): Promise<{ outcome: AuditOutcome; exitCode: number; lines: string[] }>;
