dnl Dependency checks for mod_weblab. Each failure is one line that names the
dnl Debian package to install, so a sysadmin never has to guess.

dnl WEBLAB_CHECK_PKG(VAR, pkg-config module, debian package)
AC_DEFUN([WEBLAB_CHECK_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found: install the Debian package $3])])
])

dnl WEBLAB_CHECK_APXS: apxs gives us httpd's include dir and module dir.
AC_DEFUN([WEBLAB_CHECK_APXS], [
  AC_ARG_WITH([apxs], [AS_HELP_STRING([--with-apxs=PATH], [path to apxs])],
    [APXS="$withval"], [AC_PATH_PROGS([APXS], [apxs apxs2], [no], [$PATH:/usr/bin:/usr/sbin])])
  AS_IF([test "x$APXS" = xno || test ! -x "$APXS"],
    [AC_MSG_ERROR([apxs not found: install the Debian package apache2-dev])])
  HTTPD_INCLUDEDIR=`$APXS -q INCLUDEDIR`
  HTTPD_MODULEDIR=`$APXS -q LIBEXECDIR`
  HTTPD_SBINDIR=`$APXS -q SBINDIR`
  HTTPD_TARGET=`$APXS -q TARGET`
  AS_IF([test ! -f "$HTTPD_INCLUDEDIR/httpd.h"],
    [AC_MSG_ERROR([httpd.h not found in $HTTPD_INCLUDEDIR: install the Debian package apache2-dev])])
  AS_IF([test -x "$HTTPD_SBINDIR/$HTTPD_TARGET"], [HTTPD_BIN="$HTTPD_SBINDIR/$HTTPD_TARGET"],
    [AC_MSG_ERROR([the httpd binary was not found: install the Debian package apache2])])
  HTTPD_SYSMODULEDIR="$HTTPD_MODULEDIR"
  AC_SUBST([APXS]) AC_SUBST([HTTPD_INCLUDEDIR]) AC_SUBST([HTTPD_MODULEDIR])
  AC_SUBST([HTTPD_BIN]) AC_SUBST([HTTPD_SYSMODULEDIR])
  AC_DEFINE_UNQUOTED([WEBLAB_HTTPD_BIN], ["$HTTPD_BIN"], [httpd binary])
  AC_DEFINE_UNQUOTED([WEBLAB_HTTPD_MODULEDIR], ["$HTTPD_MODULEDIR"], [httpd modules dir])
])

dnl WEBLAB_CHECK_XMLRPC: xmlrpc-c (de)serializes XML-RPC; we bring our own transport.
AC_DEFUN([WEBLAB_CHECK_XMLRPC], [
  AC_PATH_PROG([XMLRPC_C_CONFIG], [xmlrpc-c-config], [no])
  AS_IF([test "x$XMLRPC_C_CONFIG" = xno],
    [AC_MSG_ERROR([xmlrpc-c-config not found: install the Debian package libxmlrpc-core-c3-dev])])
  XMLRPC_CFLAGS=`$XMLRPC_C_CONFIG --cflags`
  XMLRPC_LIBS=`$XMLRPC_C_CONFIG --libs`
  AC_SUBST([XMLRPC_CFLAGS]) AC_SUBST([XMLRPC_LIBS])
])

dnl WEBLAB_CHECK_APU_DBD(driver, debian package): the apr_dbd driver must be loadable.
AC_DEFUN([WEBLAB_CHECK_APU_DBD], [
  AC_MSG_CHECKING([for the apr_dbd $1 driver])
  apu_libdir=`$PKG_CONFIG --variable=libdir apr-util-1`
  AS_IF([ls "$apu_libdir"/apr-util-1/apr_dbd_$1*.so >/dev/null 2>&1],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no]); AC_MSG_ERROR([apr_dbd $1 driver not found: install the Debian package $2])])
])

dnl WEBLAB_CHECK_MARIADB: libmariadb (MariaDB Connector/C) for the mysql://
dnl databases; pkg-config first, then mariadb_config.
AC_DEFUN([WEBLAB_CHECK_MARIADB], [
  PKG_CHECK_MODULES([MARIADB], [libmariadb], [], [
    AC_PATH_PROG([MARIADB_CONFIG], [mariadb_config], [no])
    AS_IF([test "x$MARIADB_CONFIG" = xno],
      [AC_MSG_ERROR([libmariadb not found: install the Debian package libmariadb-dev])])
    MARIADB_CFLAGS=`$MARIADB_CONFIG --cflags`
    MARIADB_LIBS=`$MARIADB_CONFIG --libs`
  ])
  AC_SUBST([MARIADB_CFLAGS]) AC_SUBST([MARIADB_LIBS])
])
