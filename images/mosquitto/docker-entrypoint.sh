#!/bin/sh
# seccompose's entrypoint for eclipse-mosquitto:2.0 built from Debian's mosquitto: as the official
# image's, started as root, give /mosquitto (configuration, data, logs) to the mosquitto user
# (mosquitto itself drops to that user), then run the command.
set -e
if [ "$(id -u)" = 0 ]; then
	[ -d /mosquitto ] && chown -R mosquitto:mosquitto /mosquitto || true
fi
exec "$@"
