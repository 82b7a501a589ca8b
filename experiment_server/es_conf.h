/* Configuration and fixed limits of experiment_server. */
#ifndef WEBLAB_ES_CONF_H
#define WEBLAB_ES_CONF_H

/* Input limits, checked before anything is parsed. */
#define WEBLAB_ES_MAX_HEADER        16384       /* request line + headers */
#define WEBLAB_ES_MAX_BODY          (16 * 1024 * 1024)  /* Content-Length */
#define WEBLAB_ES_MAX_CONNECTIONS   1024        /* more are closed at once */
#define WEBLAB_ES_MAX_SESSIONS      4096        /* 2_concurrent sessions */
#define WEBLAB_ES_MAX_SESSION_ID    256         /* bytes of a session id */
#define WEBLAB_ES_IDLE_TIMEOUT_MS   60000       /* silent connection closed */
#define WEBLAB_ES_LINGER_MS         2000        /* drain after an error */

/* The experiment-server API the daemon speaks (spec 4.4). */
typedef enum {
    WEBLAB_ES_API_1 = 0,
    WEBLAB_ES_API_2 = 1,
    WEBLAB_ES_API_2_CONCURRENT = 2
} weblab_es_api_e;

#define WEBLAB_ES_API_COUNT 3

/* The command line, as parsed by es_main.c. Strings point into argv. */
typedef struct weblab_es_conf_t {
    const char *bind_addr;      /* --bind, default 127.0.0.1 */
    const char *port;           /* --port, required */
    const char *lab_name;       /* --lab, default "dummy" */
    const char *lab_module;     /* --lab-module FILE.so, optional */
    weblab_es_api_e api;        /* --api, default 2 */
    const char *auth;           /* --auth TOKEN, optional */
    const char *pid_file;       /* --pid-file, optional */
    const char *log_file;       /* --log-file, default stderr */
    int verbose;                /* -v */
} weblab_es_conf_t;

/* "1", "2" or "2_concurrent". */
const char *weblab_es_api_name(weblab_es_api_e api);

#endif
