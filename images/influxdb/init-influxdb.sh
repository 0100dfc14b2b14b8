#!/bin/bash
# seccompose's init-influxdb.sh for influxdb:1.6: the steps of the official 1.x image's script of
# the same name, written anew. On the first start (no meta directory yet) and when there is
# something to set up (INFLUXDB_DB, an admin user with HTTP authentication on, or files in
# /docker-entrypoint-initdb.d): run influxd on 127.0.0.1:$INFLUXDB_INIT_PORT (default 8086) in the
# background, create the database, the admin, and the user / write user / read user with their
# grants (generated passwords are printed), run *.sh and *.iql init files, then stop that server.
set -e
auth=${INFLUXDB_HTTP_AUTH_ENABLED:-}
if [[ -z $auth ]]; then
	auth=$(grep -iE '^\s*auth-enabled\s*=\s*true' /etc/influxdb/influxdb.conf | grep -io true || true)
else
	auth=$(grep -io true <<<"$auth" || true)
fi
with_users=
if [[ -n $auth && -n ${INFLUXDB_ADMIN_USER:-} ]]; then with_users=yes; fi
meta=${INFLUXDB_META_DIR:-/var/lib/influxdb/meta}
init_files=$(ls -A /docker-entrypoint-initdb.d 2>/dev/null || true)
if [[ -d $meta ]] || [[ -z $with_users && -z ${INFLUXDB_DB:-} && -z $init_files ]]; then
	exit 0
fi

make_password() { tr -dc '_A-Za-z0-9-' </dev/urandom | head -c 32 || true; }
create_db="CREATE DATABASE ${INFLUXDB_DB:-}${INFLUXDB_DB_RETENTION_POLICY:+ $INFLUXDB_DB_RETENTION_POLICY}"
if [[ -n $with_users ]]; then
	if [[ -z ${INFLUXDB_ADMIN_PASSWORD:-} ]]; then
		INFLUXDB_ADMIN_PASSWORD=$(make_password)
		echo "INFLUXDB_ADMIN_PASSWORD:$INFLUXDB_ADMIN_PASSWORD"
	fi
	first_query="CREATE USER \"$INFLUXDB_ADMIN_USER\" WITH PASSWORD '$INFLUXDB_ADMIN_PASSWORD' WITH ALL PRIVILEGES"
elif [[ -n ${INFLUXDB_DB:-} ]]; then
	first_query=$create_db
else
	first_query="SHOW DATABASES"
fi

port=${INFLUXDB_INIT_PORT:-8086}
INFLUXDB_HTTP_BIND_ADDRESS=127.0.0.1:$port INFLUXDB_HTTP_HTTPS_ENABLED=false influxd "$@" &
server=$!
influx=(influx -host 127.0.0.1 -port "$port")
for tries in {30..0}; do
	if "${influx[@]}" -execute "$first_query" &>/dev/null; then break; fi
	echo 'influxdb init process in progress...'
	sleep 1
done
if [[ $tries == 0 ]]; then
	echo >&2 'influxdb init process failed.'
	exit 1
fi

query() { "${influx[@]}" "$@"; }
if [[ -n $with_users ]]; then
	influx+=(-username "$INFLUXDB_ADMIN_USER" -password "$INFLUXDB_ADMIN_PASSWORD")
	if [[ -n ${INFLUXDB_DB:-} ]]; then query -execute "$create_db"; fi
	for kind in USER WRITE_USER READ_USER; do
		user_var=INFLUXDB_$kind password_var=INFLUXDB_${kind}_PASSWORD
		[[ -n ${!user_var:-} ]] || continue
		if [[ -z ${!password_var:-} ]]; then
			printf -v "$password_var" '%s' "$(make_password)"
			echo "$password_var:${!password_var}"
		fi
		query -execute "CREATE USER \"${!user_var}\" WITH PASSWORD '${!password_var}'"
		query -execute "REVOKE ALL PRIVILEGES FROM \"${!user_var}\""
		if [[ -n ${INFLUXDB_DB:-} ]]; then
			case $kind in
				USER) grant=ALL ;;
				WRITE_USER) grant=WRITE ;;
				READ_USER) grant=READ ;;
			esac
			query -execute "GRANT $grant ON \"$INFLUXDB_DB\" TO \"${!user_var}\""
		fi
	done
fi
for f in /docker-entrypoint-initdb.d/*; do
	case $f in
		*.sh) echo "$0: running $f"; . "$f" ;;
		*.iql) echo "$0: running $f"; query -execute "$(<"$f")" ;;
		*/\*) ;;
		*) echo "$0: ignoring $f" ;;
	esac
done
if ! kill -s TERM "$server" || ! wait "$server"; then
	echo >&2 'influxdb init process failed. (Could not stop influxdb)'
	exit 1
fi
