# kubernetes-deploy-resource: a Concourse resource type. Concourse execs /opt/resource/check, /opt/resource/in <dest>
# and /opt/resource/out <sources> in this image; each is a small launcher run by `#!/usr/bin/env node` that starts its
# esbuild bundle, /opt/resource/lib/<script>.cjs, from the V8 code cache beside it. /opt/resource/lib/ also holds the
# side modules a script loads on first use (proxy agents, auth-provider helpers).
#
# Build: `npm run image:build` (scripts/image/build.sh: docker where an engine answers, else buildah). By hand:
#   docker build --secret id=build_ca,src=/etc/ssl/certs/ca-certificates.crt -t kubernetes-deploy-resource .
# (the secret is optional: it only matters behind a TLS-intercepting proxy, see the npm ci step).
#
# The base of both stages comes from a build arg, so the image builds from a locally made base where no container
# registry is reachable (scripts/image/base.sh). It is pinned by its full version tag; for a release build where the
# registry is reachable, pin it by digest as well:
#   --build-arg BASE_IMAGE=node:24.21.0-bookworm-slim@sha256:<digest>
# The default carries no digest because a locally made stand-in cannot match the official image's digest.
ARG BASE_IMAGE=node:24.21.0-bookworm-slim
ARG RUNTIME_IMAGE=${BASE_IMAGE}

# ---------------------------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build
WORKDIR /src
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
# A TLS-intercepting proxy's CA reaches npm (and the `node` devDependency's install script, which fetches the Node
# binary package) only for this step, as a build secret: it is in no layer and no image config.
RUN --mount=type=secret,id=build_ca,target=/run/secrets/build_ca \
    if [ -s /run/secrets/build_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/build_ca; fi; \
    npm ci --loglevel=warn
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/
COPY scripts/bundle/*.mjs scripts/bundle/*.cjs scripts/bundle/
COPY scripts/bundle/side/*.mjs scripts/bundle/side/
COPY src ./src
RUN npm run build \
 && for s in check in out; do \
      test -x "assets/$s" && head -n1 "assets/$s" | grep -qx '#!/usr/bin/env node' \
        || { echo "assets/$s: missing, not executable or without the node shebang" >&2; exit 1; }; \
    done \
 && ls assets/lib/*.cjs >/dev/null

# ---------------------------------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS resource
# Nothing but `node` is needed at run time: drop the package managers the Node images ship (npm, npx, corepack, yarn).
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* /root/.npm /root/.cache /tmp/* \
 && node --version >/dev/null
COPY --from=build /src/assets/check /src/assets/in /src/assets/out /opt/resource/
COPY --from=build /src/assets/lib/ /opt/resource/lib/
# The code caches, filled at build time by running each script once against a stand-in API server on loopback
# (scripts/bundle/fill-code-cache.mjs; made-up credentials, nothing leaves the build): lib/<script>.v8-cache holds every
# function that run compiled, so a start compiles almost nothing (check starts about a fifth faster; see
# bench/RESULTS.md); Node's compile cache (NODE_COMPILE_CACHE) holds the launchers and the side modules.
ENV NODE_COMPILE_CACHE=/opt/resource/.compile-cache
COPY --from=build /src/scripts/bundle/fill-code-cache.mjs /tmp/fill-code-cache.mjs
RUN node /tmp/fill-code-cache.mjs /opt/resource \
 && rm /tmp/fill-code-cache.mjs \
 && for s in check in out; do test -s "/opt/resource/lib/$s.v8-cache"; done \
 && test -n "$(ls -A /opt/resource/.compile-cache)"

ARG RUNTIME_IMAGE
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE_URL=
LABEL org.opencontainers.image.title="kubernetes-deploy-resource" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}" \
      org.opencontainers.image.description="Concourse resource type that deploys an application image to Kubernetes and tears it down again" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
