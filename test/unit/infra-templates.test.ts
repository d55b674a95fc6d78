import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, type CollectionTag, type ScalarTag } from 'yaml';
import { settings } from '../../core/config.js';
import { repoPath } from '../support/fixtures.js';

/**
 * The deployment templates that no emulator runs: CloudFormation (infra/aws/data.yml) and ARM
 * (infra/azure/azuredeploy.json). No AWS or Azure validator works offline, so these tests read
 * the templates as data and check what a wrong edit would break: references, scopes, names.
 */

// CloudFormation's short-form intrinsics, read as their long form.
const intrinsic = (tag: string, name: string): (ScalarTag | CollectionTag)[] => [
  { tag: `!${tag}`, resolve: (value: string) => ({ [name]: value }) } as ScalarTag,
  { tag: `!${tag}`, collection: 'seq', resolve: (value: unknown) => ({ [name]: (value as { toJSON(): unknown }).toJSON() }) } as unknown as CollectionTag,
];
const cfnTags = [...intrinsic('Ref', 'Ref'), ...intrinsic('Sub', 'Fn::Sub'), ...intrinsic('GetAtt', 'Fn::GetAtt'), ...intrinsic('ImportValue', 'Fn::ImportValue')];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a template is untyped data, checked field by field below
type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };

describe('infra/aws/data.yml (CloudFormation)', () => {
  const template = parse(readFileSync(repoPath('infra/aws/data.yml'), 'utf8'), { customTags: cfnTags }) as {
    Parameters: Record<string, unknown>;
    Resources: Record<string, Resource>;
    Outputs: Record<string, { Value: unknown; Export: { Name: { 'Fn::Sub': string } } }>;
  };
  const bucket = template.Resources.DataBucket!;

  it('keeps the data bucket private, encrypted, versioned and retained when the stack goes', () => {
    expect(bucket.Type).toBe('AWS::S3::Bucket');
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const deny = template.Resources.DataBucketPolicy!.Properties.PolicyDocument.Statement[0];
    expect(deny).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  it('lets Redshift COPY read only the parsed files and load manifests', () => {
    const role = template.Resources.RedshiftCopyRole!.Properties;
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal.Service).toContain('redshift.amazonaws.com');
    const statements = role.Policies[0].PolicyDocument.Statement;
    expect(statements[0]).toEqual({ Effect: 'Allow', Action: 's3:GetObject', Resource: [{ 'Fn::Sub': '${DataBucket.Arn}/parsed/*' }, { 'Fn::Sub': '${DataBucket.Arn}/load-manifests/*' }] });
    expect(JSON.stringify(statements)).not.toMatch(/s3:\*|PutObject|DeleteObject/);
  });

  it('refers only to its own parameters and resources', () => {
    const names = new Set([...Object.keys(template.Parameters), ...Object.keys(template.Resources), 'AWS::Region', 'AWS::AccountId', 'AWS::Partition']);
    const text = JSON.stringify(template);
    for (const [, ref] of text.matchAll(/"Ref":"([^"]+)"/g)) expect(names).toContain(ref);
    for (const [, sub] of text.matchAll(/\$\{([A-Za-z:]+)(?:\.[A-Za-z]+)?\}/g)) expect(names).toContain(sub);
  });

  it('sends object-created notifications under raw/ and logs/ to their own queues, each with a dead-letter queue, and only this bucket may send', () => {
    expect(bucket.Properties.NotificationConfiguration.QueueConfigurations).toEqual([
      { Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': 'ParseRawQueue.Arn' }, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'raw/' }] } } },
      { Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': 'ParseLogsQueue.Arn' }, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'logs/' }] } } },
    ]);
    for (const [queue, dlq, timeout] of [['ParseRawQueue', 'ParseRawDeadLetterQueue', 300], ['ParseLogsQueue', 'ParseLogsDeadLetterQueue', 900]] as const) {
      const q = template.Resources[queue]!;
      expect(q.Type).toBe('AWS::SQS::Queue');
      expect(q.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': `${dlq}.Arn` }, maxReceiveCount: 5 });
      // Lambda requires the queue's visibility timeout to be at least the function's timeout.
      expect(q.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(timeout);
      expect(template.Resources[dlq]!.Type).toBe('AWS::SQS::Queue');
    }
    const policy = template.Resources.ParseQueuesPolicy!.Properties;
    expect(policy.Queues).toEqual([{ Ref: 'ParseRawQueue' }, { Ref: 'ParseLogsQueue' }]);
    expect(policy.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: [{ 'Fn::GetAtt': 'ParseRawQueue.Arn' }, { 'Fn::GetAtt': 'ParseLogsQueue.Arn' }],
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${BucketName}' } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    // S3 validates the destination when the notification is set, so the policy must exist first.
    expect((bucket as Resource & { DependsOn?: string }).DependsOn).toBe('ParseQueuesPolicy');
    const functions = readFileSync(repoPath('serverless.yml'), 'utf8');
    for (const name of ['ParseRawQueueArn', 'ParseLogsQueueArn']) {
      expect(template.Outputs[name]!.Export.Name['Fn::Sub']).toBe(`ferry-data-\${Stage}-${name}`);
      expect(functions).toContain(`'Fn::ImportValue': 'ferry-data-\${sls:stage}-${name}'`);
    }
  });

  it('exports the COPY role under the name serverless.yml imports', () => {
    expect(template.Outputs.RedshiftCopyRoleArn!.Export.Name['Fn::Sub']).toBe('ferry-data-${Stage}-RedshiftCopyRoleArn');
    expect(readFileSync(repoPath('serverless.yml'), 'utf8')).toContain("'Fn::ImportValue': 'ferry-data-${sls:stage}-RedshiftCopyRoleArn'");
  });
});

describe('infra/azure/azuredeploy.json (ARM)', () => {
  const template = JSON.parse(readFileSync(repoPath('infra/azure/azuredeploy.json'), 'utf8')) as {
    parameters: Record<string, unknown>;
    variables: Record<string, string>;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a template is untyped data, checked field by field below
    resources: (Resource & { type: string; name: string; kind?: string; sku?: Record<string, string>; identity?: { type: string }; scope?: string; condition?: string; properties: Record<string, any> })[];
  };
  const ofType = (type: string) => template.resources.filter((r) => r.type === type);
  const site = ofType('Microsoft.Web/sites')[0]!;

  it('is well formed: every expression balanced, every parameter and variable it uses declared', () => {
    const expressions: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string' && value.startsWith('[') && value.endsWith(']')) expressions.push(value);
      else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    };
    walk(template);
    expect(expressions.length).toBeGreaterThan(20);
    for (const e of expressions) {
      let depth = 0;
      for (const c of e.replace(/'(?:[^']|'')*'/g, "''")) {
        depth += c === '(' ? 1 : c === ')' ? -1 : 0;
        expect(depth, e).toBeGreaterThanOrEqual(0);
      }
      expect(depth, e).toBe(0);
      for (const [, name] of e.matchAll(/parameters\('([^']+)'\)/g)) expect(Object.keys(template.parameters), e).toContain(name);
      for (const [, name] of e.matchAll(/variables\('([^']+)'\)/g)) expect(Object.keys(template.variables), e).toContain(name);
    }
  });

  it('runs the app on Flex Consumption, Node 22, with a system-assigned managed identity', () => {
    expect(ofType('Microsoft.Web/serverfarms')[0]!.sku).toEqual({ tier: 'FlexConsumption', name: 'FC1' });
    expect(site).toMatchObject({ kind: 'functionapp,linux', identity: { type: 'SystemAssigned' } });
    expect(site.properties.functionAppConfig.runtime).toEqual({ name: 'node', version: '22' });
    expect(site.properties.functionAppConfig.deployment.storage.authentication).toEqual({ type: 'SystemAssignedIdentity' });
  });

  it('gives the app no storage keys: accounts refuse shared keys, the app reaches data by its identity', () => {
    for (const account of ofType('Microsoft.Storage/storageAccounts')) {
      expect(account.properties).toMatchObject({ allowSharedKeyAccess: false, allowBlobPublicAccess: false, minimumTlsVersion: 'TLS1_2' });
    }
    const appSettings = site.properties.siteConfig.appSettings as { name: string; value: string }[];
    const names = appSettings.map((s) => s.name);
    expect(names).toContain('FERRY_AZURE_STORAGE_ACCOUNT_URL');
    expect(names).not.toContain('FERRY_AZURE_STORAGE_CONNECTION_STRING');
    expect(names).toContain('AzureWebJobsStorage__accountName');
    const known = new Set([...settings.map((s) => s.env), 'DATABASE_URL']);
    // FERRY_AZURE_EVENTHUB__… is the Functions host's identity-based connection for the Event Hubs trigger, not a Ferry setting.
    for (const name of names.filter((n) => (n.startsWith('FERRY_') && !n.includes('__')) || n === 'DATABASE_URL')) expect(known).toContain(name);
    expect(appSettings).toContainEqual({ name: 'FERRY_AZURE_EVENTHUB__fullyQualifiedNamespace', value: "[concat(variables('eventHubsNamespace'), '.servicebus.windows.net')]" });
    expect(appSettings).toContainEqual({ name: 'FERRY_AZURE_PARSE_TRIGGER', value: 'eventhubs' });
    // The load timer runs the SQL models the zip ships (infra/package-azure.mjs).
    expect(appSettings).toContainEqual({ name: 'FERRY_MODELS', value: "[parameters('models')]" });
    expect(template.parameters.models).toMatchObject({ defaultValue: 'examples/models' });
    expect(readFileSync(repoPath('functions/azure/index.ts'), 'utf8')).toContain("connection: 'FERRY_AZURE_EVENTHUB'");
  });

  it('grants Storage Blob Data Contributor on the data and dead-letter containers only, Owner only on the host account, Event Hubs roles only on the hub', () => {
    const assignments = ofType('Microsoft.Authorization/roleAssignments');
    const roleOf = (id: string) => template.variables[/^\[variables\('([^']+)'\)\]$/.exec(id)?.[1] ?? ''] ?? id;
    const byRole = (guid: string) => assignments.filter((a) => roleOf(a.properties.roleDefinitionId).includes(`'Microsoft.Authorization/roleDefinitions', '${guid}'`));
    const contributor = byRole('ba92f5b4-2d11-453d-a403-e96b0029c9fe');
    const owner = byRole('b7e6dc6d-f1e8-4753-8033-0f276bb0955b');
    const receiver = byRole('a638d3c7-ab3a-418d-83e6-5f17a39d4fde');
    const sender = byRole('2b629674-e913-4c01-ae53-ef4638d8f975');
    expect([contributor.length, owner.length, receiver.length, sender.length, assignments.length]).toEqual([2, 1, 1, 1, 5]);
    expect(contributor[0]!.scope).toContain("'/blobServices/default/containers/', parameters('containerName')");
    expect(contributor[0]!.scope).toContain("variables('dataAccount')");
    // Event Grid's own identity may write only the dead-letter container.
    expect(contributor[1]!.scope).toBe("[concat('Microsoft.Storage/storageAccounts/', variables('dataAccount'), '/blobServices/default/containers/', variables('deadLetterContainer'))]");
    expect(contributor[1]!.properties.principalId).toContain("'Microsoft.EventGrid/systemTopics'");
    // The app receives from, and Event Grid sends to, the one hub.
    for (const role of [receiver[0]!, sender[0]!]) expect(role.scope).toBe("[concat('Microsoft.EventHub/namespaces/', variables('eventHubsNamespace'), '/eventhubs/', variables('eventHubName'))]");
    expect(receiver[0]!.properties.principalId).toContain("'Microsoft.Web/sites'");
    expect(sender[0]!.properties.principalId).toContain("'Microsoft.EventGrid/systemTopics'");
    expect(owner[0]!.scope).toContain("variables('hostAccount')");
    for (const a of assignments) expect(a.properties).toMatchObject({ principalType: 'ServicePrincipal', principalId: expect.stringContaining('identity.principalId') });
  });

  it('subscribes the parse function to BlobCreated under logs/, and sends raw/ through the hub to the batch parser, both dead-lettered', () => {
    const [subscription, batched] = ofType('Microsoft.EventGrid/systemTopics/eventSubscriptions');
    expect(subscription!.condition).toBe("[parameters('deployEventSubscription')]");
    expect(subscription!.properties.destination).toMatchObject({ endpointType: 'AzureFunction', properties: { resourceId: "[resourceId('Microsoft.Web/sites/functions', parameters('appName'), 'parse')]" } });
    expect(subscription!.properties.filter.includedEventTypes).toEqual(['Microsoft.Storage.BlobCreated']);
    expect(subscription!.properties.filter.advancedFilters[0]).toMatchObject({ operatorType: 'StringBeginsWith', key: 'subject' });
    expect(subscription!.properties.filter.advancedFilters[0].values.map((v: string) => /blobs\/(\w+)\/'\)\]$/.exec(v)?.[1])).toEqual(['logs']);
    // The function the subscription names is the one the app registers.
    expect(readFileSync(repoPath('functions/azure/index.ts'), 'utf8')).toContain("app.eventGrid('parse'");
    expect(batched!.condition).toBe("[parameters('deployEventSubscription')]");
    expect(batched!.properties.deliveryWithResourceIdentity).toEqual({
      identity: { type: 'SystemAssigned' },
      destination: { endpointType: 'EventHub', properties: { resourceId: "[variables('eventHubId')]" } },
    });
    expect(batched!.properties.filter.advancedFilters[0].values.map((v: string) => /blobs\/(\w+)\/'\)\]$/.exec(v)?.[1])).toEqual(['raw']);
    for (const s of [subscription!, batched!]) {
      expect(s.properties.deadLetterWithResourceIdentity.deadLetterDestination).toEqual({
        endpointType: 'StorageBlob',
        properties: { resourceId: "[resourceId('Microsoft.Storage/storageAccounts', variables('dataAccount'))]", blobContainerName: "[variables('deadLetterContainer')]" },
      });
      expect(s.properties.retryPolicy).toEqual({ maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 });
    }
    const hub = ofType('Microsoft.EventHub/namespaces/eventhubs')[0]!;
    expect(hub.name).toBe("[concat(variables('eventHubsNamespace'), '/', variables('eventHubName'))]");
    expect(ofType('Microsoft.EventHub/namespaces')[0]!.properties).toMatchObject({ disableLocalAuth: true });
    // The trigger batches: host.json asks for hundreds of events per invocation.
    const host = JSON.parse(readFileSync(repoPath('host.json'), 'utf8'));
    expect(host.extensions.eventHubs).toMatchObject({ maxEventBatchSize: 1000, minEventBatchSize: 500 });
  });
});
