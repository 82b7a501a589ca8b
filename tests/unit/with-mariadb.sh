#!/bin/sh
# with-mariadb.sh COMMAND [ARGS...]
#
# Runs COMMAND against a private MariaDB server: its own datadir in a
# temporary directory, a free loopback port, its unix socket in that
# directory, root without a password. COMMAND gets
#   WEBLAB_TEST_MYSQL_DSN=mysql://root@127.0.0.1:PORT/
# (no database: each test creates and drops its own). The server is stopped
# by its PID and the directory removed when COMMAND ends, whatever happens.
# Exit status: COMMAND's; 77 (skipped) when mariadbd is not installed.
set -u

MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
INSTALL_DB=${MARIADB_INSTALL_DB:-$(command -v mariadb-install-db || true)}
if [ ! -x "$MARIADBD" ] || [ -z "$INSTALL_DB" ]; then
    echo "with-mariadb.sh: mariadbd not found (Debian package mariadb-server)" >&2
    exit 77
fi

dir=$(mktemp -d /tmp/weblab-mariadb-XXXXXX) || exit 1
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
            sleep 0.1; i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

user=$(id -un)
if ! "$INSTALL_DB" --no-defaults --datadir="$dir/data" --user="$user" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$dir/install.log" 2>&1; then
    echo "with-mariadb.sh: mariadb-install-db failed:" >&2
    cat "$dir/install.log" >&2
    exit 1
fi

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$MARIADBD" --no-defaults --datadir="$dir/data" --user="$user" \
    --bind-address=127.0.0.1 --port="$port" --socket="$dir/mysqld.sock" \
    --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
    --skip-log-bin --innodb-buffer-pool-size=64M \
    --innodb-flush-log-at-trx-commit=2 --max-connections=1000 \
    --max-prepared-stmt-count=200000 >"$dir/console.log" 2>&1 &
pid=$!

i=0
until [ -S "$dir/mysqld.sock" ] && [ -s "$dir/mysqld.pid" ]; do
    if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 300 ]; then
        echo "with-mariadb.sh: mariadbd did not start:" >&2
        tail -n 20 "$dir/error.log" >&2
        exit 1
    fi
    sleep 0.1; i=$((i + 1))
done

WEBLAB_TEST_MYSQL_DSN="mysql://root@127.0.0.1:$port/"
export WEBLAB_TEST_MYSQL_DSN
"$@"
