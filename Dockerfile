# The Dockyard controller image.
#
#   docker build -t dockyard:0.1.0 .
#   docker run --read-only --cap-drop ALL --security-opt no-new-privileges dockyard:0.1.0 controller --help
#
# Stages on one base. `deps` installs exactly what package-lock.json pins
# (`npm ci`; install scripts run only where package.json's `allowScripts`
# allows them); `build` compiles the TypeScript and drops dev mode;
# `prod-deps` drops the devDependencies (testcontainers among them). The runtime stage holds only dist/, the production
# node_modules and package.json, runs as uid 65532 and writes nothing to its
# own file system, so it runs with a read-only root file system. A source
# change rebuilds only `build` and the runtime image's last layer.
#
# BASE_IMAGE is a Debian image with Node.js 26 and npm on PATH: the official
# node:26-bookworm-slim by default. Where no registry is reachable, the local
# environment builds an equivalent and passes it in
# (src/localenv/controller-image.ts). The file works with both the classic
# builder and BuildKit, so it has no `# syntax=` line (that would pull a
# frontend image) and no `RUN --mount`.
ARG BASE_IMAGE=node:26-bookworm-slim

FROM ${BASE_IMAGE} AS deps
WORKDIR /src
ENV npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
# The `node` devDependency ships the Node binary for development machines;
# here it only runs the compiler and is pruned with the rest.
COPY package.json package-lock.json ./
RUN npm ci

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The dashboard's browser bundle (esbuild, a devDependency) lands in dist/dashboard-web.
COPY scripts/build-dashboard.ts ./scripts/
# The image carries production code only: `dockyard dev` (src/cli/dev-command,
# loaded on demand) and the local environment it starts (src/localenv, with its
# devDependency testcontainers) stay in the repository.
RUN npm run build && rm -rf dist/localenv dist/cli/dev-command.js dist/cli/dev-command.d.ts

FROM deps AS prod-deps
RUN npm prune --omit=dev

FROM ${BASE_IMAGE}
ARG BASE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=
# A numeric user so Kubernetes can check runAsNonRoot; the passwd entry lets
# tools (and os.userInfo()) name it. Its home does not exist: nothing is written.
RUN echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'nonroot:x:65532:' >> /etc/group
WORKDIR /app
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=prod-deps /src/package.json ./
COPY --from=build /src/dist ./dist
# The Compose loader (compose-go for WebAssembly), built before `docker build`
# by `npm run build:compose-loader`: src/compose finds it beside dist/.
COPY wasm/compose-loader.wasm ./wasm/
# Memory settings measured by `npm run bench` (memory scenario; the bench
# runs the controller with these same settings, bench/support/controller.ts):
# the controller's RSS grew with the object count although its live JS heap
# did not. Two causes: glibc gives each thread that mallocs its own arena
# (libuv's pool threads inflate API responses), and V8 grows its young
# generation to 3 x 16 MiB under allocation bursts and keeps it. Two arenas
# and 2 MiB semi-spaces keep RSS near the live data (a few KB per object),
# at the price of more frequent, cheap scavenges.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS=--max-semi-space-size=2
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["controller"]
LABEL org.opencontainers.image.title="dockyard" \
      org.opencontainers.image.description="Declarative Docker for Kubernetes: controllers that keep Docker daemons converged." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
