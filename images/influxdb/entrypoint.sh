#!/bin/bash
# seccompose's entrypoint for influxdb:1.6 built from Debian's influxdb: the steps of the official
# 1.x image's entrypoint.sh (influxdata/influxdata-docker), written anew. Options as the first
# argument run influxd with them; for influxd, run init-influxdb.sh first (which sets up databases
# and users on the first start), then exec the server.
set -e
if [[ ${1:0:1} == - ]]; then
	set -- influxd "$@"
fi
if [[ $1 == influxd ]]; then
	/init-influxdb.sh "${@:2}"
fi
exec "$@"
