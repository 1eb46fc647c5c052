# syntax=docker/dockerfile:1
# calsync master. Build: docker build -t calsync-master .   (or: docker-compose up -d)
#
# Pinned by tag; pin by digest too (denoland/deno:debian-2.9.6@sha256:…) once you have pulled it
# and checked the digest, which cannot be done in the environment this file was written in.
ARG DENO_IMAGE=denoland/deno:debian-2.9.6

# --- stage 1: dependencies only, so this layer is rebuilt only when deno.json/deno.lock change
FROM ${DENO_IMAGE} AS deps
ENV DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
WORKDIR /app
COPY deno.json deno.lock ./
# Fills $DENO_DIR (/deno-dir in the image) with every import of deno.json, exactly as locked.
RUN deno install --frozen

# --- stage 2: the runtime image
FROM ${DENO_IMAGE}
ENV DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 DATA_DIR=/data
WORKDIR /app
COPY --from=deps --chown=deno:deno /deno-dir/ /deno-dir/
COPY deno.json deno.lock ./
COPY shared/ ./shared/
COPY master/ ./master/
# Anything master/main.ts needs beyond deno.json's imports is cached now, not at start-up;
# --frozen fails the build if the lockfile would change.
RUN deno cache --frozen master/main.ts \
  && chown -R deno:deno /deno-dir \
  && mkdir -p /data \
  && chown deno:deno /data
# The image's unprivileged user (uid 1993). /app stays owned by root: the master only writes
# into DATA_DIR.
USER deno
VOLUME /data
EXPOSE 8008
# No curl in the image: deno itself asks /health (503 when the store fails).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('API_PORT') || '8008'}/health`, { signal: AbortSignal.timeout(4000) }); Deno.exit(r.ok ? 0 : 1)"]
# glibc's allocator as `deno task master` sets it: after a large upload, freed memory goes
# back to the system instead of staying in per-thread arenas (README, "Memory").
ENV MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 MALLOC_MMAP_THRESHOLD_=131072
# Exactly the permissions and V8 flags of `deno task master` (deno.json); --frozen: never
# rewrite deno.lock.
CMD ["deno", "run", "--frozen", "--v8-flags=--max-semi-space-size=8", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "master/main.ts"]
