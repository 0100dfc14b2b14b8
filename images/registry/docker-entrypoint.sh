#!/bin/sh
# seccompose's entrypoint for registry:2 built from Debian's docker-registry: as the official
# image's (distribution/distribution-library-image), a YAML file as the first argument is served,
# and registry subcommands or options run the registry with them.
set -e
case "$1" in
	*.yaml | *.yml) set -- registry serve "$@" ;;
	serve | garbage-collect | help | -*) set -- registry "$@" ;;
esac
exec "$@"
