#!/bin/sh
# seccompose's entrypoint for haproxy:2.6 built from Debian's haproxy: as the official image's
# (docker-library/haproxy), options as the first argument run haproxy with them, and haproxy runs
# in master-worker mode (-W: reloads on SIGUSR2) in the foreground (-db).
set -e
if [ "${1#-}" != "$1" ]; then
	set -- haproxy "$@"
fi
if [ "$1" = haproxy ]; then
	shift
	set -- haproxy -W -db "$@"
fi
exec "$@"
