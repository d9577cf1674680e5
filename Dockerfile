# flaghost: the server (and the `flaghost` admin CLI) on Node 20, run from TypeScript by tsx.

# Production dependencies only, installed exactly as package-lock.json pins them (the `prepare`
# script finds no web/ here and skips the console build).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/build-console.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The web console, built with the dev dependencies (Vite, React) into dist/console.
FROM node:20-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/build-console.mjs ./scripts/
COPY web ./web
RUN npm run build:console

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    FLAGHOST_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY migrations ./migrations
COPY bin ./bin
COPY src ./src
COPY --from=console /app/dist/console ./dist/console
# `flaghost` on the PATH for `docker compose exec flaghost flaghost …`; /data owned by the
# unprivileged user before it becomes a volume (later changes to a volume path are discarded).
RUN ln -s /app/bin/flaghost.mjs /usr/local/bin/flaghost \
 && mkdir -p /data \
 && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8000
CMD ["node", "--import", "tsx", "src/server.ts"]
