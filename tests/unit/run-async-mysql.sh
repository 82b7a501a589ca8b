#!/bin/sh
# The test_async suite against a private MariaDB (tests/unit/with-mariadb.sh).
here=$(dirname "$0")
exec "${srcdir:-$here/../..}/tests/unit/with-mariadb.sh" ./tests/unit/test_async
