# zot-gate in a container. docs/deploying.md ("Docker") says how to run it:
# mount the config at /etc/zot-gate/zot-gate.json, the data volume at
# /var/lib/zot-gate, and give it ~35 s to stop (`--stop-timeout 35`).
#
#   docker build -t zot-gate .
#   docker run --rm zot-gate node dist/cli.js --help

ARG NODE_VERSION=20

# ---- build: compile TypeScript with the dev dependencies -------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and the compiled program only --------
FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="zot-gate" \
      org.opencontainers.image.description="Authenticating, policy-enforcing reverse proxy for the zot OCI registry" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
COPY package.json package-lock.json ./
# No production dependency needs an install script; skipping them runs no package code at build time.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config/zot-gate.example.json ./config/zot-gate.example.json

# The program stays root-owned and read-only to the user that runs it; only the
# data directory is the user's (node, uid 1000, from the base image).
RUN mkdir -p /etc/zot-gate /var/lib/zot-gate \
 && chown node:node /var/lib/zot-gate \
 && chmod 700 /var/lib/zot-gate
VOLUME ["/var/lib/zot-gate"]

ENV ZOT_GATE_CONFIG=/etc/zot-gate/zot-gate.json \
    ZOT_GATE_HEALTHCHECK_URL=http://127.0.0.1:5050/-/healthz

USER node
EXPOSE 5050

# node itself does the probe: the image has no curl or wget. Set
# ZOT_GATE_HEALTHCHECK_URL when the config listens on another port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.ZOT_GATE_HEALTHCHECK_URL,{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]

# SIGTERM drains in-flight requests (up to 30 s) and exits 0; SIGHUP reloads the config.
# Small young-generation spaces keep the RSS near the live set under load (docs/BENCHMARKS.md).
CMD ["node", "--max-semi-space-size=4", "dist/cli.js", "serve"]
