#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) with
# pg_trgm and unaccent are on this machine: the embedded default and the
# tests run their own private clusters from them.
set -euo pipefail
have() {
  for d in /usr/lib/postgresql/*/bin "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
  done
  return 1
}
if have; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing PostgreSQL server (apt-get install postgresql postgresql-contrib)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql postgresql-contrib >&2
  have && exit 0
fi
echo "PostgreSQL server binaries not found: install PostgreSQL 15+ with contrib (Debian/Ubuntu: apt-get install postgresql postgresql-contrib)" >&2
exit 1
