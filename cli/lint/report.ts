/** The outputs of `kubeseal lint`: text for people, JSON for scripts, SARIF 2.1.0 for code scanning. */
import { RULES, type Finding } from './rules.js';

const objectName = (f: Finding) => (f.object ? `${f.object.kind} ${f.object.namespace ? `${f.object.namespace}/` : ''}${f.object.name ?? ''}` : undefined);

export function formatText(findings: readonly Finding[], files: number): string {
  const lines = findings.map((f) => `${f.file}${f.line ? `:${f.line}:${f.column ?? 1}` : ''}: ${f.severity} [${f.rule}] ${f.message}\n    fix: ${f.help}`);
  const errors = findings.filter((f) => f.severity === 'error').length;
  const summary = findings.length ? `${errors} error(s), ${findings.length - errors} warning(s) in ${files} file(s) checked` : `no problems found in ${files} file(s)`;
  return [...lines, summary].join('\n') + '\n';
}

export function formatJson(findings: readonly Finding[], files: number): string {
  return JSON.stringify({ version: 1, filesChecked: files, findings: findings.map((f) => ({ ...f, ...(f.object ? { objectName: objectName(f) } : {}) })) }, null, 2) + '\n';
}

/** SARIF 2.1.0 as GitHub code scanning reads it: rules with ids and help, results with a location and region. */
export function formatSarif(findings: readonly Finding[], version: string): string {
  const index = new Map(RULES.map((r, n) => [r.id, n]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kubeseal-lint',
            semanticVersion: /^\d+\.\d+\.\d+/.test(version) ? version : undefined,
            informationUri: 'https://github.com/bitnami-labs/sealed-secrets',
            rules: RULES.map((r) => ({
              id: r.id,
              name: r.name,
              shortDescription: { text: r.short },
              fullDescription: { text: r.short },
              help: { text: r.help, markdown: r.help },
              defaultConfiguration: { level: r.severity },
              properties: { tags: ['security', 'sealed-secrets'] },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: index.get(f.rule),
          level: f.severity,
          message: { text: objectName(f) && !f.message.includes(objectName(f)!) ? `${objectName(f)}: ${f.message}` : f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(f.file), uriBaseId: '%SRCROOT%' },
                region: { startLine: f.line ?? 1, startColumn: f.column ?? 1 },
              },
            },
          ],
        })),
        columnKind: 'unicodeCodePoints',
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
