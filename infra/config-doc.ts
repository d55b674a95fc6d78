import type { SettingSpec } from '../core/config.js';

/** Markdown table cell text: pipes escaped, line breaks flattened. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/**
 * docs/configuration.md, rendered from the `settings` declaration in core/config.ts, so the page
 * lists exactly what the config reader knows. `npm run docs:config` writes it; a test checks it.
 */
export function renderConfigurationDoc(settings: readonly SettingSpec[]): string {
  const rows = settings.map((s) => `| \`${s.env}\` | ${s.default === undefined ? 'unset' : `\`${cell(s.default)}\``} | ${cell(s.description)} |`);
  return `<!-- Generated from the settings in core/config.ts by \`npm run docs:config\`; edit those, not this file. -->
# Configuration

Ferry reads environment variables, the same names on every host (\`ferry serve\`, AWS Lambda, Azure
Functions). It validates them once at start-up and stops with exit status 2 naming every bad or
missing key at once, e.g. \`FERRY_LOAD_INTERVAL_S: must be a whole number, got "ten"\`. The \`ferry\`
commands also warn about a \`FERRY_*\` variable that is not a setting, naming the closest one.

Where to set them:

- **Local** (\`ferry serve\`, \`ferry load\`, …): the process environment, e.g.
  \`FERRY_RULES=docs/rules/api-nginx.yml npx ferry serve\`. With nothing set, Ferry keeps its data under
  \`./data\` and loads into the embedded PostgreSQL.
- **AWS**: \`provider.environment\` and each function's \`environment\` in \`serverless.yml\`; the
  deployment parameters (\`--param="rules=…"\`, \`warehouse\`, \`loadRate\`, \`bucket\`) fill some of
  them, and secrets come from Secrets Manager (see [deploy-aws.md](deploy-aws.md)).
- **Azure**: the function app's application settings, which \`infra/azure/azuredeploy.json\` sets from
  its parameters (see [deploy-azure.md](deploy-azure.md)); change one later with
  \`az functionapp config appsettings set\`.

Secrets (\`DATABASE_URL\`, \`FERRY_SHARED_SECRET\`, connection strings) are never logged.

| variable | default | meaning |
|---|---|---|
${rows.join('\n')}
`;
}
