#!/bin/sh
# MQTT load with Mosquitto's clients: mqtt_load.sh PORT COUNT
# A subscriber per QoS (0, 1, 2) waits for COUNT messages each while a publisher sends them from a
# file (one connection per QoS); then a retained message is left on seccompose/kept (read back after
# a restart). Exits 1 if a subscriber got fewer than COUNT (the recipe sets max_queued_messages 0: the
# broker would drop a slow subscriber's QoS 1/2 messages beyond 1000 queued).
set -eu
port=$1
count=$2
dir=$(mktemp -d)
seq 1 "$count" | sed 's/^/message /' >"$dir/lines"
for qos in 0 1 2; do
	mosquitto_sub -p "$port" -t "load/$qos" -q "$qos" -C "$count" -W 120 >"$dir/got-$qos" &
	echo $! >"$dir/pid-$qos"
done
sleep 1
for qos in 0 1 2; do
	mosquitto_pub -p "$port" -t "load/$qos" -q "$qos" -l <"$dir/lines"
done
status=0
for qos in 0 1 2; do
	wait "$(cat "$dir/pid-$qos")" || status=1
	got=$(wc -l <"$dir/got-$qos")
	echo "qos $qos: $got/$count"
	[ "$got" -eq "$count" ] || status=1
done
mosquitto_pub -p "$port" -t seccompose/kept -m across-restarts -q 1 -r
rm -rf "$dir"
exit $status
