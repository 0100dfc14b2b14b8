#!/bin/sh
# seccompose's entrypoint for node:18 built from Debian's nodejs: as the official image's
# (nodejs/docker-node), run the arguments with node when the first one is an option, is not a
# command, or is a file that is not executable (a script); otherwise run them as they are.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" || true)" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
	set -- node "$@"
fi
exec "$@"
