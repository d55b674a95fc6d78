import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, type CollectionTag, type ScalarTag } from 'yaml';
import { settings } from '../../core/config.js';
import { repoPath } from '../support/fixtures.js';

/**
 * The container collector's packaging: the Dockerfile, the ECS Fargate service (CloudFormation)
 * and the Container Apps app (ARM). No Docker engine, AWS or Azure validator runs here, so these
 * read the files as data and check what a wrong edit would break: the user, the ports, the
 * health checks, the role scopes, the settings.
 */

const known = new Set([...settings.map((s) => s.env), 'DATABASE_URL', 'PORT']);

describe('Dockerfile', () => {
  const text = readFileSync(repoPath('Dockerfile'), 'utf8');
  const stages = text.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('builds in one stage and runs from a slim Node 22 image holding only production dependencies and the bundle', () => {
    expect(stages).toHaveLength(2);
    expect(stages[0]).toMatch(/^node:22-slim AS build/);
    expect(runtime).toMatch(/^node:22-slim\n/);
    expect(runtime).toMatch(/npm ci --omit=dev/);
    const copies = [...runtime.matchAll(/^COPY (.+)$/gm)].map((m) => m[1]);
    expect(copies).toEqual(['package.json package-lock.json ./', '--from=build /src/dist/local dist/local', 'docs/rules docs/rules']);
  });

  it('runs as the unprivileged node user, on port 8080, with a health check and the collector role', () => {
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.indexOf('ENTRYPOINT'));
    expect(runtime).toMatch(/^EXPOSE 8080$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/api\/health/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "--single-threaded-gc", "dist\/local\/ferry.js"\]$/m);
    expect(runtime).toMatch(/^CMD \["serve", "--only", "collector"\]$/m);
  });

  it('keeps the build context small: no dependencies, builds, data or history', () => {
    const ignored = readFileSync(repoPath('.dockerignore'), 'utf8').split('\n');
    for (const path of ['node_modules', 'dist', 'data', '.git']) expect(ignored).toContain(path);
  });
});

// CloudFormation's short-form intrinsics, read as their long form.
const intrinsic = (tag: string, name: string): (ScalarTag | CollectionTag)[] => [
  { tag: `!${tag}`, resolve: (value: string) => ({ [name]: value }) } as ScalarTag,
  { tag: `!${tag}`, collection: 'seq', resolve: (value: unknown) => ({ [name]: (value as { toJSON(): unknown }).toJSON() }) } as unknown as CollectionTag,
];
const cfnTags = ['Ref', 'Sub', 'GetAtt', 'ImportValue', 'If', 'Not', 'Equals'].flatMap((t) => intrinsic(t, t === 'Ref' ? 'Ref' : `Fn::${t}`));

describe('infra/aws/collector-service.yml (ECS Fargate behind an ALB)', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a template is untyped data, checked field by field below
  const template = parse(readFileSync(repoPath('infra/aws/collector-service.yml'), 'utf8'), { customTags: cfnTags }) as { Parameters: Record<string, unknown>; Conditions: Record<string, unknown>; Resources: Record<string, { Type: string; Properties: any }> };
  const resource = (name: string) => template.Resources[name]!.Properties;

  it('lets the task write raw objects, its refusals and its readiness probe only', () => {
    const statements = resource('TaskRole').Policies.flatMap((p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('s3:PutObject');
    expect(JSON.stringify(statements[0].Resource.map((r: { 'Fn::Sub': [string] }) => r['Fn::Sub'][0]))).toBe(JSON.stringify(['arn:${AWS::Partition}:s3:::${Bucket}/raw/events/*', 'arn:${AWS::Partition}:s3:::${Bucket}/raw/rejections/*', 'arn:${AWS::Partition}:s3:::${Bucket}/health/*']));
    expect(JSON.stringify(template)).not.toMatch(/s3:\*|"\*"/);
  });

  it('runs the collector role of the image on 8080 against the data bucket, the secret from Secrets Manager', () => {
    const [container] = resource('TaskDefinition').ContainerDefinitions;
    expect(container.Command).toEqual(['serve', '--only', 'collector']);
    expect(container.PortMappings).toEqual([{ ContainerPort: 8080, Protocol: 'tcp' }]);
    const env = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(env.FERRY_STORE_URL['Fn::Sub'][0]).toBe('s3://${Bucket}');
    for (const name of [...Object.keys(env), ...container.Secrets.map((s: { Name: string }) => s.Name)]) expect(known).toContain(name);
    expect(container.Secrets).toEqual([{ Name: 'FERRY_SHARED_SECRET', ValueFrom: { Ref: 'SharedSecretArn' } }]);
    expect(resource('TaskDefinition')).toMatchObject({ RequiresCompatibilities: ['FARGATE'], NetworkMode: 'awsvpc' });
  });

  it('routes to ready tasks only, scales on CPU and on requests per target, and drains before a task stops', () => {
    expect(resource('TargetGroup')).toMatchObject({ HealthCheckPath: '/api/ready', Port: 8080, TargetType: 'ip' });
    const policies = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApplicationAutoScaling::ScalingPolicy');
    expect(policies.map((p) => p.Properties.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType).sort()).toEqual([
      'ALBRequestCountPerTarget',
      'ECSServiceAverageCPUUtilization',
    ]);
    const drain = Number(resource('TargetGroup').TargetGroupAttributes.find((a: { Key: string }) => a.Key === 'deregistration_delay.timeout_seconds').Value);
    expect(drain).toBeLessThanOrEqual(resource('TaskDefinition').ContainerDefinitions[0].StopTimeout + 10);
    expect(resource('ServiceSecurityGroup').SecurityGroupIngress).toEqual([{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, SourceSecurityGroupId: { Ref: 'LoadBalancerSecurityGroup' } }]);
  });

  it('refers only to its own parameters, conditions and resources', () => {
    const names = new Set([...Object.keys(template.Parameters), ...Object.keys(template.Resources), 'AWS::Region', 'AWS::AccountId', 'AWS::Partition', 'AWS::NoValue']);
    const text = JSON.stringify(template);
    for (const [, ref] of text.matchAll(/"Ref":"([^"]+)"/g)) expect(names).toContain(ref);
    for (const [, name] of text.matchAll(/"Fn::If":\["([^"]+)"/g)) expect(Object.keys(template.Conditions)).toContain(name);
  });
});

describe('infra/azure/collector-app.json (Container Apps)', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a template is untyped data, checked field by field below
  const template = JSON.parse(readFileSync(repoPath('infra/azure/collector-app.json'), 'utf8')) as { parameters: Record<string, unknown>; variables: Record<string, string>; resources: any[] };
  const app = template.resources.find((r) => r.type === 'Microsoft.App/containerApps');

  it('runs the collector role with its own identity, on 8080, with liveness, readiness and an HTTP scale rule', () => {
    expect(app.identity.type).toBe("[if(variables('pullFromRegistry'), 'SystemAssigned,UserAssigned', 'SystemAssigned')]");
    expect(app.properties.configuration.ingress).toMatchObject({ external: true, targetPort: 8080, allowInsecure: false });
    const [container] = app.properties.template.containers;
    expect(container.args).toEqual(['serve', '--only', 'collector']);
    const probes = Object.fromEntries(container.probes.map((p: { type: string; httpGet: { path: string; port: number } }) => [p.type, p.httpGet]));
    expect(probes).toMatchObject({ Liveness: { path: '/api/health', port: 8080 }, Readiness: { path: '/api/ready', port: 8080 } });
    expect(app.properties.template.scale.rules[0].http.metadata.concurrentRequests).toBeDefined();
    for (const e of container.env) expect(known).toContain(e.name);
    expect(container.env.find((e: { name: string }) => e.name === 'FERRY_SHARED_SECRET')).toEqual({ name: 'FERRY_SHARED_SECRET', secretRef: 'shared-secret' });
  });

  it('grants Blob Data Contributor on the data container only, to the app', () => {
    const roles = template.resources.filter((r) => r.type === 'Microsoft.Authorization/roleAssignments' && r.properties.roleDefinitionId === "[variables('storageBlobDataContributor')]");
    expect(roles).toHaveLength(1);
    expect(roles[0].scope).toBe("[concat('Microsoft.Storage/storageAccounts/', variables('dataAccount'), '/blobServices/default/containers/', parameters('containerName'))]");
    expect(template.variables.storageBlobDataContributor).toContain('ba92f5b4-2d11-453d-a403-e96b0029c9fe');
    expect(roles[0].properties.principalId).toContain("'Microsoft.App/containerApps'");
    // The data account is azuredeploy.json's: named the same way from appName.
    const functions = JSON.parse(readFileSync(repoPath('infra/azure/azuredeploy.json'), 'utf8')) as { variables: Record<string, string> };
    expect(template.variables.dataAccount).toBe(functions.variables.dataAccount);
  });

  it('pulls from an Azure Container Registry, when one is named, with an identity granted AcrPull on that registry before the app exists', () => {
    expect(template.parameters.registryName).toMatchObject({ type: 'string', defaultValue: '' });
    expect(template.variables.pullFromRegistry).toBe("[not(empty(parameters('registryName')))]");
    const identity = template.resources.find((r) => r.type === 'Microsoft.ManagedIdentity/userAssignedIdentities');
    expect(identity).toMatchObject({ condition: "[variables('pullFromRegistry')]", name: "[variables('pullIdentityName')]" });
    expect(template.variables.pullIdentityId).toBe(`[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', ${template.variables.pullIdentityName!.slice(1, -1)})]`);
    const pull = template.resources.find((r) => r.type === 'Microsoft.Authorization/roleAssignments' && r.properties.roleDefinitionId === "[variables('acrPull')]");
    expect(pull).toMatchObject({ condition: "[variables('pullFromRegistry')]", scope: "[concat('Microsoft.ContainerRegistry/registries/', parameters('registryName'))]", dependsOn: ["[variables('pullIdentityId')]"] });
    expect(template.variables.acrPull).toContain('7f951dda-4ed3-4680-a7ca-43fe172d538d'); // AcrPull
    expect(pull.properties.principalId).toBe("[reference(variables('pullIdentityId'), '2023-01-31').principalId]");
    // The app is created after the grant, with the identity, and names the registry's login server.
    expect(app.dependsOn).toContain(`[variables('acrPullAssignmentName')]`);
    expect(pull.name).toBe("[variables('acrPullAssignmentName')]");
    expect(app.identity.userAssignedIdentities).toBe("[if(variables('pullFromRegistry'), createObject(variables('pullIdentityId'), createObject()), null())]");
    expect(app.properties.configuration.registries).toBe(
      "[if(variables('pullFromRegistry'), createArray(createObject('server', concat(parameters('registryName'), environment().suffixes.acrLoginServer), 'identity', variables('pullIdentityId'))), createArray())]",
    );
    // Without a registry nothing of it is deployed: every piece is conditional or chosen by if().
    for (const r of [identity, pull]) expect(r.condition).toBe("[variables('pullFromRegistry')]");
  });

  it('uses only declared parameters and variables', () => {
    const text = JSON.stringify(template);
    for (const [, name] of text.matchAll(/parameters\('([^']+)'\)/g)) expect(Object.keys(template.parameters)).toContain(name);
    for (const [, name] of text.matchAll(/variables\('([^']+)'\)/g)) expect(Object.keys(template.variables)).toContain(name);
  });
});
