#!/bin/bash
# seccompose's entrypoint for mariadb:10.11 built from Debian's mariadb-server.
#
# The same steps as the official image's docker-entrypoint.sh (MariaDB/mariadb-docker), written
# anew: check the server's configuration and read datadir, socket and port from it; read the
# MARIADB_* settings (MYSQL_* as fallbacks, *_FILE secrets); make the data directory and, as
# root, give it and the socket directory to mysql and re-run this script as mysql through gosu.
# On an empty data directory: mariadb-install-db, a temporary server on the socket only, time
# zones, the root password (and root@MARIADB_ROOT_HOST), the healthcheck user and its
# .my-healthcheck.cnf, MARIADB_DATABASE / MARIADB_USER, /docker-entrypoint-initdb.d/*, stop. On
# existing data, with MARIADB_AUTO_UPGRADE, run mariadb-upgrade when the data is older. Then exec.
set -eo pipefail
shopt -s nullglob

log() { printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$1" "${*:2}"; }
note() { log Note "$@"; }
warn() { log Warn "$@" >&2; }
fail() { log ERROR "$@" >&2; exit 1; }

from_env_or_file() {  # NAME [DEFAULT]
	local name=$1 file_var="${1}_FILE" value=${2:-}
	if [[ -n ${!name:-} && -n ${!file_var:-} ]]; then fail "$name and $file_var are both set; set one of them"; fi
	if [[ -n ${!name:-} ]]; then value=${!name}; elif [[ -n ${!file_var:-} ]]; then value=$(<"${!file_var}"); fi
	export "$name=$value"
	unset "$file_var"
}

# setting SUFFIX [DEFAULT]: MARIADB_SUFFIX, falling back to MYSQL_SUFFIX; both end up equal.
setting() {
	local maria="MARIADB_$1" mysql="MYSQL_$1"
	from_env_or_file "$mysql" "${2:-}"
	from_env_or_file "$maria" "${!mysql}"
	export "$mysql=${!maria}"
}

asks_for_help() {
	local arg
	for arg; do case $arg in -'?' | --help | --print-defaults | -V | --version) return 0 ;; esac; done
	return 1
}

config_value() {  # NAME SERVER-ARGS...: the value the server would use (its own defaults included)
	local name=$1; shift
	"$@" --verbose --help 2>/dev/null | awk -v name="$name" '$1 == name && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}

check_config() {
	local errors
	if ! errors=$("$@" --verbose --help 2>&1 >/dev/null); then
		fail "the server refuses its configuration ($*):" "$errors"
	fi
}

load_settings() {
	DATADIR=$(config_value datadir "$@")
	SOCKET=$(config_value socket "$@")
	PORT=$(config_value port "$@")
	setting ROOT_HOST '%'
	setting DATABASE
	setting USER
	setting PASSWORD
	setting ROOT_PASSWORD
	from_env_or_file MARIADB_PASSWORD_HASH
	from_env_or_file MARIADB_ROOT_PASSWORD_HASH
	: "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:=${MYSQL_ALLOW_EMPTY_PASSWORD:-}}"
	: "${MARIADB_RANDOM_ROOT_PASSWORD:=${MYSQL_RANDOM_ROOT_PASSWORD:-}}"
	: "${MARIADB_INITDB_SKIP_TZINFO:=${MYSQL_INITDB_SKIP_TZINFO:-}}"
	export MARIADB_ALLOW_EMPTY_ROOT_PASSWORD MARIADB_RANDOM_ROOT_PASSWORD MARIADB_INITDB_SKIP_TZINFO
	ALREADY_INITIALISED=
	if [[ -d $DATADIR/mysql ]]; then ALREADY_INITIALISED=yes; fi
}

prepare_directories() {
	mkdir -p "$DATADIR"
	if [[ $(id -u) == 0 ]]; then
		find "$DATADIR" \! -user mysql -exec chown mysql: '{}' +
		find "${SOCKET%/*}" -maxdepth 0 \! -user mysql -exec chown mysql: '{}' \;
		# The server watches memory pressure through its cgroup's file when it may.
		local cgroup pressure
		cgroup=$(grep -m1 '^0::' /proc/self/cgroup || true)
		pressure="/sys/fs/cgroup${cgroup#0::}/memory.pressure"
		if [[ -w $pressure ]]; then
			chown mysql: "$pressure" || warn "cannot give $pressure to mysql"
		else
			warn "$pressure is not writable: MariaDB will not watch memory pressure"
		fi
	fi
}

check_password_settings() {
	if [[ -z $MARIADB_ROOT_PASSWORD && -z $MARIADB_ROOT_PASSWORD_HASH && -z $MARIADB_ALLOW_EMPTY_ROOT_PASSWORD && -z $MARIADB_RANDOM_ROOT_PASSWORD ]]; then
		fail "the database is not initialised and no root password option is set:" \
			"set MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD or MARIADB_RANDOM_ROOT_PASSWORD"
	fi
	if [[ -n $MARIADB_PASSWORD && -n $MARIADB_PASSWORD_HASH ]]; then
		fail "MARIADB_PASSWORD and MARIADB_PASSWORD_HASH are both set; set one of them"
	fi
}

client() {  # [--no-root-password] ARGS...: the client on the socket, as root
	local password=$MARIADB_ROOT_PASSWORD
	if [[ $1 == --no-root-password ]]; then password=; shift; fi
	if [[ -n $MARIADB_DATABASE ]]; then set -- --database="$MARIADB_DATABASE" "$@"; fi
	MYSQL_PWD=$password mariadb --protocol=socket -uroot -hlocalhost --socket="$SOCKET" "$@"
}

escape() {  # a string for an SQL string literal
	local text=${1//\\/\\\\}
	text=${text//$'\n'/\\n}
	printf '%s' "${text//\'/\\\'}"
}

random_password() {
	tr -dc 'A-Za-z0-9_!@%^&*()+-' </dev/urandom | head -c 32 || true
}

start_temporary_server() {
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
		--expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0 &
	TEMPORARY_SERVER=$!
	note "Waiting for server startup"
	local extra=() tries
	if [[ -z $ALREADY_INITIALISED ]]; then extra=(--no-root-password); fi
	for tries in {30..0}; do
		if client "${extra[@]}" --database=mysql <<<'SELECT 1' &>/dev/null; then break; fi
		sleep 1
	done
	if [[ $tries == 0 ]]; then fail "the temporary server did not start"; fi
}

stop_temporary_server() {
	kill "$TEMPORARY_SERVER"
	wait "$TEMPORARY_SERVER"
}

healthcheck_users() {
	local password grant=${MARIADB_HEALTHCHECK_GRANTS:-USAGE} host
	password=$(random_password)
	for host in 127.0.0.1 ::1 localhost; do
		printf "CREATE USER IF NOT EXISTS healthcheck@'%s' IDENTIFIED BY '%s';\n" "$host" "$(escape "$password")"
		printf "SET PASSWORD FOR healthcheck@'%s' = PASSWORD('%s');\n" "$host" "$(escape "$password")"
		printf "GRANT %s ON *.* TO healthcheck@'%s';\n" "$grant" "$host"
	done
	(umask 0077 && printf '[mariadb-client]\nport=%s\nsocket=%s\nuser=healthcheck\npassword=%s\nprotocol=tcp\n' \
		"$PORT" "$SOCKET" "$password" >"$DATADIR/.my-healthcheck.cnf")
}

set_up_database() {
	if [[ -z $MARIADB_INITDB_SKIP_TZINFO ]]; then
		mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo | client --no-root-password --database=mysql
	fi
	if [[ -n $MARIADB_RANDOM_ROOT_PASSWORD ]]; then
		MARIADB_ROOT_PASSWORD=$(random_password)
		export MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD=$MARIADB_ROOT_PASSWORD
		note "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
	fi
	local root_password root_remote= local_password= database= user= grants= health
	root_password=$(escape "$MARIADB_ROOT_PASSWORD")
	if [[ -n $MARIADB_ROOT_HOST && $MARIADB_ROOT_HOST != localhost ]]; then
		local identified="IDENTIFIED BY '$root_password'"
		if [[ -n $MARIADB_ROOT_PASSWORD_HASH ]]; then identified="IDENTIFIED BY PASSWORD '$MARIADB_ROOT_PASSWORD_HASH'"; fi
		root_remote="CREATE USER 'root'@'$MARIADB_ROOT_HOST' $identified;
GRANT ALL ON *.* TO 'root'@'$MARIADB_ROOT_HOST' WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO 'root'@'$MARIADB_ROOT_HOST' WITH GRANT OPTION;"
	fi
	if [[ -z $MARIADB_ROOT_PASSWORD_HASH ]]; then
		local_password="SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$root_password');"
	fi
	health=$(healthcheck_users)
	if [[ -n $MARIADB_DATABASE ]]; then
		note "Creating database $MARIADB_DATABASE"
		database="CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
	fi
	if [[ -n $MARIADB_USER && ( -n $MARIADB_PASSWORD || -n $MARIADB_PASSWORD_HASH ) ]]; then
		note "Creating user $MARIADB_USER"
		if [[ -n $MARIADB_PASSWORD_HASH ]]; then
			user="CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY PASSWORD '$MARIADB_PASSWORD_HASH';"
		else
			user="CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '$(escape "$MARIADB_PASSWORD")';"
		fi
		if [[ -n $MARIADB_DATABASE ]]; then
			grants="GRANT ALL ON \`${MARIADB_DATABASE//_/\\_}\`.* TO '$MARIADB_USER'@'%';"
		fi
	fi
	note "Securing system users (equivalent to running mysql_secure_installation)"
	client --no-root-password --database=mysql --binary-mode <<-EOSQL
		SET @previous_log_bin = @@SESSION.SQL_LOG_BIN;
		SET @@SESSION.SQL_LOG_BIN = 0;
		SET @@SESSION.SQL_MODE = REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
		DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
		EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');
		$local_password
		$root_remote
		$health
		SET @@SESSION.SQL_LOG_BIN = @previous_log_bin;
		$database
		$user
		$grants
	EOSQL
}

run_init_files() {
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
			*.sh) if [[ -x $f ]]; then note "$0: running $f"; "$f"; else note "$0: sourcing $f"; . "$f"; fi ;;
			*.sql) note "$0: running $f"; client <"$f" ;;
			*.sql.gz) note "$0: running $f"; gunzip -c "$f" | client ;;
			*.sql.xz) note "$0: running $f"; xzcat "$f" | client ;;
			*) warn "$0: ignoring $f" ;;
		esac
	done
}

initialise() {
	ls /docker-entrypoint-initdb.d/ >/dev/null
	note "Initializing database files"
	mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal "${@:2}" \
		--skip-test-db --old-mode='UTF8_IS_UTF8MB3' --default-time-zone=SYSTEM --enforce-storage-engine= \
		--skip-log-bin --expire-logs-days=0 \
		--loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0
	note "Database files initialized"
	note "Starting temporary server"
	start_temporary_server "$@"
	note "Temporary server started."
	set_up_database
	run_init_files
	if [[ -n $MARIADB_ROOT_PASSWORD_HASH ]]; then
		client --no-root-password --binary-mode <<<"SET @@SESSION.SQL_LOG_BIN = 0; SET PASSWORD FOR 'root'@'localhost' = '$MARIADB_ROOT_PASSWORD_HASH';"
	fi
	note "Stopping temporary server"
	stop_temporary_server
	note "Temporary server stopped"
	note "MariaDB init process done. Ready for start up."
}

data_is_older() {  # true when the data was written by an older major.minor than this server
	local info=$DATADIR/mysql_upgrade_info ours theirs
	if [[ ! -f $info ]]; then note "MariaDB upgrade information missing, assuming required"; return 0; fi
	if [[ ! -f $DATADIR/.my-healthcheck.cnf ]]; then note "MariaDB healthcheck configuration file missing, assuming desirable"; return 0; fi
	IFS=.- read -ra ours <<<"$(mariadbd --version | awk '{print $3}')"
	IFS=.- read -ra theirs <"$info" || true
	if (( ${#theirs[@]} < 2 || theirs[0] < ours[0] || (theirs[0] == ours[0] && theirs[1] < ours[1]) )); then return 0; fi
	note "MariaDB upgrade not required"
	return 1
}

upgrade() {
	if [[ -z $MARIADB_AUTO_UPGRADE || $MARIADB_AUTO_UPGRADE == 0 ]]; then
		note "MariaDB upgrade (mariadb-upgrade or creating healthcheck users) required, but skipped due to \$MARIADB_AUTO_UPGRADE setting"
		return
	fi
	note "Starting temporary server"
	start_temporary_server "$@" --skip-grant-tables --loose-innodb_buffer_pool_dump_at_shutdown=0 --skip-slave-start
	if [[ ! -f $DATADIR/.my-healthcheck.cnf ]]; then
		note "Creating healthcheck users"
		client --no-root-password --binary-mode <<<"SET @@SESSION.SQL_LOG_BIN = 0; FLUSH PRIVILEGES; $(healthcheck_users)"
	fi
	note "Starting mariadb-upgrade"
	mariadb-upgrade --upgrade-system-tables --socket="$SOCKET"
	note "Finished mariadb-upgrade"
	stop_temporary_server
}

main() {
	if [[ ${1:0:1} == - ]]; then set -- mariadbd "$@"; fi
	if [[ $1 == mariadbd || $1 == mysqld ]] && ! asks_for_help "$@"; then
		note "Entrypoint script for MariaDB Server $(mariadbd --version | awk '{print $3}') started."
		check_config "$@"
		load_settings "$@"
		prepare_directories
		if [[ $(id -u) == 0 ]]; then
			note "Switching to dedicated user 'mysql'"
			exec gosu mysql "${BASH_SOURCE[0]}" "$@"
		fi
		if [[ -z $ALREADY_INITIALISED ]]; then
			check_password_settings
			initialise "$@"
		elif data_is_older; then
			upgrade "$@"
		fi
	fi
	exec "$@"
}

main "$@"
