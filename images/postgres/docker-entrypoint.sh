#!/usr/bin/env bash
# seccompose's entrypoint for postgres:15 built from Debian's postgresql-15.
#
# The same steps as the official image's docker-entrypoint.sh (docker-library/postgres), written
# anew: read the POSTGRES_* settings (or their *_FILE secrets); make $PGDATA and the socket
# directory and, as root, give them to postgres and re-run this script as postgres through gosu;
# on an empty $PGDATA run initdb with the superuser's password, allow password logins from every
# host in pg_hba.conf, start a socket-only server, create $POSTGRES_DB, run
# /docker-entrypoint-initdb.d/*, stop that server; then exec the server.
set -Eeo pipefail

note() { printf '%s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# from_env_or_file NAME [DEFAULT]: export NAME from itself, from the file NAME_FILE names, or DEFAULT.
from_env_or_file() {
	local name=$1 file_var="${1}_FILE" value=${2:-}
	if [[ -n ${!name:-} && -n ${!file_var:-} ]]; then
		fail "$name and $file_var are both set; set one of them"
	fi
	if [[ -n ${!name:-} ]]; then
		value=${!name}
	elif [[ -n ${!file_var:-} ]]; then
		value=$(<"${!file_var}")
	fi
	export "$name=$value"
	unset "$file_var"
}

# asks_for_help ARGS...: true when the server would only print something and exit.
asks_for_help() {
	local arg
	for arg; do
		case $arg in -'?' | --help | --describe-config | -V | --version) return 0 ;; esac
	done
	return 1
}

load_settings() {
	from_env_or_file POSTGRES_PASSWORD
	from_env_or_file POSTGRES_USER postgres
	from_env_or_file POSTGRES_DB "$POSTGRES_USER"
	from_env_or_file POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	ALREADY_INITIALISED=
	if [[ -s $PGDATA/PG_VERSION ]]; then ALREADY_INITIALISED=yes; fi
}

prepare_directories() {
	mkdir -p "$PGDATA"
	chmod 0700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 3775 /var/run/postgresql || :
	if [[ $(id -u) == 0 ]]; then
		find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
	fi
}

check_password_settings() {
	if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
		fail "the database is not initialised and no superuser password is given:" \
			"set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust, which lets anyone in)"
	fi
	if [[ $POSTGRES_HOST_AUTH_METHOD == trust ]]; then
		note "WARNING: POSTGRES_HOST_AUTH_METHOD=trust: every host may connect without a password" >&2
	fi
}

run_initdb() {
	# initdb reads the password from a pipe, so it never lands in a file or the process list.
	eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
}

allow_remote_logins() {
	local method
	if [[ $1 == postgres ]]; then shift; fi
	method=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "$@")}
	printf '\nhost all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"
}

sql() {
	local args=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	if [[ -n $POSTGRES_DB ]]; then args+=(--dbname "$POSTGRES_DB"); fi
	PGHOST= PGHOSTADDR= "${args[@]}" "$@"
}

start_local_server() {
	if [[ $1 == postgres ]]; then shift; fi
	# Unix socket only: nothing can connect over the network while the database is set up.
	PGUSER=${PGUSER:-$POSTGRES_USER} pg_ctl -D "$PGDATA" -w start \
		-o "$(printf '%q ' "$@" -c listen_addresses= -p "${PGPORT:-5432}")"
}

stop_local_server() {
	PGUSER=${PGUSER:-postgres} pg_ctl -D "$PGDATA" -m fast -w stop
}

create_database() {
	local exists
	exists=$(POSTGRES_DB= sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")
	if [[ -z $exists ]]; then
		POSTGRES_DB= sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
	fi
}

run_init_files() {
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
			*.sh)
				if [[ -x $f ]]; then note "$0: running $f"; "$f"; else note "$0: sourcing $f"; . "$f"; fi ;;
			*.sql) note "$0: running $f"; sql -f "$f" ;;
			*.sql.gz) note "$0: running $f"; gunzip -c "$f" | sql ;;
			*.sql.xz) note "$0: running $f"; xzcat "$f" | sql ;;
			*/\*) ;;
			*) note "$0: ignoring $f" ;;
		esac
	done
}

main() {
	if [[ ${1:0:1} == - ]]; then set -- postgres "$@"; fi
	if [[ $1 == postgres ]] && ! asks_for_help "$@"; then
		load_settings
		prepare_directories
		if [[ $(id -u) == 0 ]]; then
			exec gosu postgres "${BASH_SOURCE[0]}" "$@"
		fi
		if [[ -z $ALREADY_INITIALISED ]]; then
			check_password_settings
			ls /docker-entrypoint-initdb.d/ >/dev/null
			run_initdb
			allow_remote_logins "$@"
			export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
			start_local_server "$@"
			create_database
			run_init_files
			stop_local_server
			unset PGPASSWORD
			note "PostgreSQL init process complete; ready for start up."
		else
			note "PostgreSQL Database directory appears to contain a database; Skipping initialization"
		fi
	fi
	exec "$@"
}

main "$@"
