# The collector as a container (`ferry serve --only collector`): group commit in front of S3 or
# Azure Blob, for volumes where a put and an invocation per request cost more than a fixed fleet.
# Parsing and loading stay with the cloud functions, triggered by the objects it writes.
#   docker build -t ferry-collector .
#   docker run -p 8080:8080 -e FERRY_STORE_URL=s3://<bucket> -e FERRY_SHARED_SECRET=… ferry-collector

FROM node:22-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Dev dependencies (esbuild) build the bundle; install scripts are not needed for that.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY core core
COPY functions functions
COPY bench bench
COPY infra/build.mjs infra/build.mjs
RUN node infra/build.mjs

FROM node:22-slim
ENV NODE_ENV=production PORT=8080 FERRY_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the package's own build script needs the dev ones, hence no scripts.
# No optional ones: they are the embedded warehouse's PostgreSQL binaries, which a collector never runs.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist/local dist/local
COPY docs/rules docs/rules
# The image's own unprivileged user; nothing in /app is writable by it.
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--single-threaded-gc", "dist/local/ferry.js"]
CMD ["serve", "--only", "collector"]
