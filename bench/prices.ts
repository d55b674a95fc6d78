/**
 * Request-fee list prices for the scale benchmark's projections, in US dollars.
 *
 * Source: AWS and Azure public pricing pages (us-east-1 / East US, pay-as-you-go, before free
 * tiers), as of 2025; checked against `shared/reference/cloud-prices.md` on 2026-11-25. Storage at
 * rest, data transfer and compute time are left out: at Ferry's volume request fees dominate.
 */
export const prices = {
  asOf: '2025 list prices, checked 2026-11-25',
  aws: {
    /** API Gateway HTTP API, per request (first 300M a month). */
    apiGatewayRequest: 1.0 / 1e6,
    /** Lambda, per invocation (compute time not included). */
    lambdaRequest: 0.2 / 1e6,
    /** S3 Standard PUT, COPY, POST, LIST, per request. */
    s3PutOrList: 0.005 / 1000,
    /** S3 Standard GET, HEAD and others, per request. */
    s3GetOrHead: 0.0004 / 1000,
    /** SQS standard, per request (up to 10 messages / 256 KB; each 64 KB chunk is one). */
    sqsRequest: 0.4 / 1e6,
    /** Fargate (x86), per vCPU-hour and per GB-hour. */
    fargateVcpuHour: 0.04048,
    fargateGbHour: 0.004445,
    /** Application Load Balancer, per hour and per LCU-hour. */
    albHour: 0.0225,
    albLcuHour: 0.008,
  },
  azure: {
    /** Functions Flex Consumption, on demand, per execution (compute time not included). */
    functionsExecution: 0.4 / 1e6,
    /** Blob Storage Hot LRS write operations (Put Blob, Put Block, Put Block List). */
    blobWrite: 0.065 / 10_000,
    /** Blob Storage Hot LRS read operations. */
    blobRead: 0.0052 / 10_000,
    /** Blob Storage Hot LRS list operations. */
    blobList: 0.065 / 10_000,
    /** Event Grid system topic operation (each delivery attempt is one). */
    eventGridOperation: 0.6 / 1e6,
    /** Event Hubs Standard ingress event. */
    eventHubsIngressEvent: 0.028 / 1e6,
    /** Event Hubs Standard throughput unit, per hour (one carries 1,000 events/s). */
    eventHubsThroughputUnitHour: 0.03,
  },
} as const;

/** The seeds' daily volume the projections scale to. */
export const seedVolume = {
  eventsPerDay: 125_000_000,
  /** Mean events per Hamustro-shaped request (1–25). */
  eventsPerRequest: 13,
  /** Five-minute load ticks a day. */
  loadTicksPerDay: 288,
} as const;
