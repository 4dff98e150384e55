# switchyard gateway image. Build: docker build -t switchyard .
# Run:   docker run -p 8080:8080 -p 127.0.0.1:9090:9090 switchyard
#        with your own config: -v $PWD/config:/app/config:ro
# The gateway reads /app/config/gateway.yaml (rules, products and pipeline files next to it) and
# never writes there: generated state (rules snapshot, diff samples) goes to
# /var/lib/switchyard (SWITCHYARD_STATE_DIR, see state_dir in docs/config.md). Kubernetes:
# deploy/kubernetes/ and docs/deploy.md.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.scripts.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SWITCHYARD_LISTEN=0.0.0.0:8080 \
    SWITCHYARD_ADMIN_LISTEN=0.0.0.0:9090 \
    SWITCHYARD_STATE_DIR=/var/lib/switchyard
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# Owned by root: the gateway (user node) only reads its config, as from a read-only mount.
COPY config ./config
# The only place the gateway writes; mode 0700 because the diff samples hold request data.
RUN install -d -o node -g node -m 0700 /var/lib/switchyard
VOLUME ["/var/lib/switchyard"]
# node is uid 1000 in the official Node images (deploy/kubernetes sets runAsUser: 1000).
USER node
EXPOSE 8080 9090
# Reads admin.listen from the same config and environment as the gateway: no port written here.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "dist/healthcheck.js", "/app/config/gateway.yaml"]
ENTRYPOINT ["node", "--max-semi-space-size=32", "dist/cli.js"]
CMD ["gateway", "--config", "/app/config/gateway.yaml"]
