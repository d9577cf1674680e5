# flaghost: the server (and the `flaghost` admin CLI) on Node 20, run as compiled JavaScript
# (dist/server.js, dist/cli.js, built by scripts/build-server.mjs with esbuild; no tsx at run time).

# Production dependencies only, installed exactly as package-lock.json pins them (the `prepare`
# script finds no web/ and no src/ here and builds nothing).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/build-console.mjs scripts/build-server.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The build, with the dev dependencies: the web console (Vite, React) into dist/console, then the
# server and the CLI (esbuild) into dist/server.js and dist/cli.js.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/build-console.mjs scripts/build-server.mjs ./scripts/
COPY web ./web
RUN npm run build:console
COPY tsconfig.json ./
COPY src ./src
RUN npm run build:server

FROM node:20-bookworm-slim AS runtime
# tini as PID 1: forwards SIGTERM/SIGINT to node (a graceful shutdown) and reaps zombie processes,
# which node itself does not do as PID 1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    FLAGHOST_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY migrations ./migrations
COPY bin ./bin
COPY --from=build /app/dist ./dist
# `flaghost` on the PATH for `docker compose exec flaghost flaghost …`; /data owned by the
# unprivileged user before it becomes a volume (later changes to a volume path are discarded).
RUN ln -s /app/bin/flaghost.mjs /usr/local/bin/flaghost \
 && mkdir -p /data \
 && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8000
# Ready: database reachable, migrations applied, snapshots loaded (GET /_readyz, README "Operating flaghost").
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/bin/healthcheck.mjs"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "dist/server.js"]
