#!/usr/bin/env bash
# Makes sure a Compose implementation is installed: `make compose-check`
# validates docker-compose.yml with `docker-compose config`, which parses and
# interpolates the file without a Docker daemon. Debian ships Compose as the
# docker-compose package; the compose v2 plugin (`docker compose`) works too.
set -euo pipefail
if command -v docker-compose >/dev/null 2>&1; then exit 0; fi
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	echo "installing docker-compose (apt-get install docker-compose)..." >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null \
		|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null; }
	command -v docker-compose >/dev/null 2>&1 && exit 0
fi
echo "no docker-compose: install Debian's docker-compose package or the Docker compose plugin" >&2
exit 1
