#!/bin/sh
# Wait for the store, migrate it, then serve (ilms serve also loads the shipped structures).
set -eu
tries=0
until ilms db upgrade; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "the store at ILMS_DATABASE_URL did not become reachable; giving up" >&2
    exit 1
  fi
  echo "waiting for the store ($tries/30)..." >&2
  sleep 2
done
exec ilms serve --host 0.0.0.0 --port 8000 "$@"
