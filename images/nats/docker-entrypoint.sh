#!/bin/sh
# seccompose's entrypoint for nats:2.9 built from Debian's nats-server: as the official image's
# (nats-io/nats-docker), with no arguments or options only, run nats-server with them; run any
# other command as it is.
set -e
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
	set -- nats-server "$@"
fi
exec "$@"
