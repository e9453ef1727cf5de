# One image for every service and for the `migrate` job; docker-compose.yml picks what runs with
# `working_dir` + `command`. Built from the repository root: docker build -t order-saga:local .

FROM node:24-bookworm-slim AS build
# pnpm's major must match the lockfile's; scripts/lib/toolchain.sh installs the same major locally.
ARG PNPM_VERSION=12.21.0
# Corepack rejects pnpm releases whose signatures its bundled keys do not know yet.
ENV COREPACK_INTEGRITY_KEYS=0 CI=true
RUN corepack enable && corepack prepare "pnpm@${PNPM_VERSION}" --activate
WORKDIR /repo
# The lockfile alone fills pnpm's store, so source edits do not re-download every package.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
# pnpm hashes the patched dependencies' patch files (patchedDependencies) before it fetches.
COPY patches ./patches
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
# Same order as scripts/lib/system.sh: libs/database generates the Prisma clients the apps import.
RUN scripts/bin/tsc-native -b libs/database \
 && node libs/database/dist/cli.js generate \
 && pnpm build \
 && pnpm --filter @order-saga/console build:web
# The peers benchmark (DBOS, Restate; `pnpm bench:peers`) is a development tool that no service
# imports: its engines (Restate's server binary alone is ~225 MB) stay out of the image.
RUN rm -rf e2e/peers node_modules/.pnpm/@restatedev+* node_modules/.pnpm/@dbos-inc+*

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /repo
COPY --from=build --chown=node:node /repo /repo
USER node
CMD ["node", "libs/database/dist/cli.js", "--help"]
