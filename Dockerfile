# switchyard gateway image. Build: docker build -t switchyard .
# Run:   docker run -p 8080:8080 -v $PWD/config:/app/config switchyard
# The gateway reads /app/config/gateway.yaml (rules, products and pipeline files next to it).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.scripts.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SWITCHYARD_LISTEN=0.0.0.0:8080 \
    SWITCHYARD_ADMIN_LISTEN=0.0.0.0:9090
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# Writable by the gateway: the rules snapshot and diff samples live next to the config.
COPY --chown=node:node config ./config
USER node
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9090/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=32", "dist/cli.js"]
CMD ["gateway", "--config", "/app/config/gateway.yaml"]
