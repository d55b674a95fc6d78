/**
 * A hand-written check of Synapse `COPY INTO`, which sqlfluff 1.4.5 (Debian's) predates: the
 * statement's shape, that every option is one the statement documents, and that the options the
 * loader depends on have the values it needs. Returns the problems found (none = valid).
 */
const knownOptions = new Set([
  'FILE_TYPE',
  'FILE_FORMAT',
  'CREDENTIAL',
  'ERRORFILE',
  'ERRORFILE_CREDENTIAL',
  'MAXERRORS',
  'COMPRESSION',
  'FIELDQUOTE',
  'FIELDTERMINATOR',
  'ROWTERMINATOR',
  'FIRSTROW',
  'DATEFORMAT',
  'ENCODING',
  'IDENTITY_INSERT',
  'AUTO_CREATE_TABLE',
]);

const required: Record<string, string> = {
  FILE_TYPE: "'CSV'",
  COMPRESSION: "'GZIP'",
  // A bare \n would be read as \r\n.
  ROWTERMINATOR: "'0x0A'",
  // Any other value drops rows silently.
  MAXERRORS: '0',
  FIELDQUOTE: `'"'`,
  FIELDTERMINATOR: "','",
};

const shape = /^COPY INTO (\[[a-z_][a-z0-9_]*\]\.\[[a-z_][a-z0-9_]*\]) \(((?:\[[a-z_][a-z0-9_]*\](?:, )?)+)\)\nFROM ((?:'(?:[^']|'')*'(?:,\n {2})?)+)\nWITH \(\n([\s\S]*)\n\);?$/;

export function checkCopyInto(statement: string, credential: 'managed identity' | 'caller' = 'managed identity'): string[] {
  const match = shape.exec(statement.trim());
  if (!match) return ['not COPY INTO <schema>.<table> (<columns>) FROM <urls> WITH (<options>)'];
  const problems: string[] = [];
  const urls = match[3]!.split(/,\n {2}/).map((u) => u.slice(1, -1).replaceAll("''", "'"));
  for (const url of urls) if (!/^https:\/\/[a-z0-9]+\.blob\.core\.windows\.net\/[^?\s]+$/.test(url)) problems.push(`not a blob URL: ${url}`);
  const options = new Map<string, string>();
  for (const line of match[4]!.split('\n')) {
    const option = /^ {2}([A-Z_]+) = (.+?),?$/.exec(line);
    if (!option) {
      problems.push(`unreadable option line: ${line}`);
      continue;
    }
    if (!knownOptions.has(option[1]!)) problems.push(`unknown option ${option[1]}`);
    if (options.has(option[1]!)) problems.push(`option ${option[1]} given twice`);
    options.set(option[1]!, option[2]!);
  }
  // Synapse reads storage as the workspace's managed identity; Fabric as the connecting identity.
  const expected = { ...required, ...(credential === 'managed identity' ? { CREDENTIAL: "(IDENTITY = 'Managed Identity')" } : {}) };
  if (credential === 'caller' && options.has('CREDENTIAL')) problems.push('CREDENTIAL must be absent (storage is read with the caller\'s identity)');
  for (const [name, value] of Object.entries(expected)) {
    if (options.get(name) !== value) problems.push(`${name} must be ${value}, is ${options.get(name) ?? 'missing'}`);
  }
  return problems;
}
