# The Hust Musik service, built in one stage and run from a small one.
# docker-compose.yml builds it; `docker build -t hustmusik .` works alone.
FROM golang:1.26 AS build
WORKDIR /src
# Modules first: the download layer is reused while only code changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: the runtime image needs no C library of a given version.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/hustmusik ./cmd/hustmusik

FROM debian:bookworm-slim
# curl for the health check; ca-certificates for Google OAuth, ZaloPay,
# Cloudinary and any TLS endpoint of the stack.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/hustmusik --create-home hustmusik
COPY --from=build /out/hustmusik /usr/local/bin/hustmusik
USER hustmusik
WORKDIR /var/lib/hustmusik
ENV HUSTMUSIK_ADDR=:7554 \
    HUSTMUSIK_DATA_DIR=/var/lib/hustmusik
EXPOSE 7554
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://localhost:7554/ >/dev/null || exit 1
ENTRYPOINT ["hustmusik"]
CMD ["serve"]
