#!/bin/sh
# with-redis.sh [COMMAND [ARGS...]]
#
# Runs COMMAND (default: tests/unit/test_coord_redis, as `make check` runs
# it from the build directory) against a private redis-server: its own
# directory under /tmp, a unix socket there and no TCP port, AOF
# persistence. COMMAND gets
#   WEBLAB_TEST_REDIS=unix:DIR/redis.sock      the coordination target
#   WEBLAB_TEST_REDIS_DIR=DIR                  redis.conf, redis.pid, data
#   WEBLAB_TEST_REDIS_SERVER=/path/redis-server
# so that a test may kill the server by the PID in DIR/redis.pid and start
# it again with "redis-server DIR/redis.conf". Whatever server runs at the
# end is stopped by its PID and DIR removed.
# Exit status: COMMAND's; 77 (skipped) when redis-server is not installed.
set -u

REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
if [ ! -x "$REDIS_SERVER" ]; then
    echo "with-redis.sh: redis-server not found (Debian package redis-server)" >&2
    exit 77
fi
if [ $# -eq 0 ]; then
    set -- tests/unit/test_coord_redis
fi

dir=$(mktemp -d /tmp/weblab-redis-XXXXXX) || exit 1
stop_server() {
    pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null
    fi
}
cleanup() {
    stop_server
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$dir/redis.conf" <<EOF
port 0
unixsocket $dir/redis.sock
unixsocketperm 700
dir $dir
pidfile $dir/redis.pid
logfile $dir/redis.log
daemonize yes
save ""
appendonly yes
appendfsync everysec
EOF

if ! "$REDIS_SERVER" "$dir/redis.conf"; then
    echo "with-redis.sh: redis-server did not start" >&2
    exit 1
fi
i=0
until [ -S "$dir/redis.sock" ] && [ -s "$dir/redis.pid" ]; do
    if [ $i -ge 100 ]; then
        echo "with-redis.sh: redis-server did not start:" >&2
        tail -n 20 "$dir/redis.log" >&2
        exit 1
    fi
    sleep 0.1; i=$((i + 1))
done

WEBLAB_TEST_REDIS="unix:$dir/redis.sock" WEBLAB_TEST_REDIS_DIR="$dir" \
    WEBLAB_TEST_REDIS_SERVER="$REDIS_SERVER" "$@"
rc=$?
exit $rc
