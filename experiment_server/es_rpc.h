/* XML-RPC dispatch of experiment_server: parses a call with xmlrpc-c, finds
 * the method in a table {name, arity per API, handler} (the shape of
 * redis's command table), checks arity and argument types, calls the lab
 * and serializes the answer or a fault. Method names may carry the "Util."
 * prefix the original sends or not.
 *
 * Fault codes (faultCode is always an int; faultString says what went
 * wrong in words). They follow the XML-RPC interoperability codes that
 * Python's xmlrpc.client names, plus two of our own in the range those
 * codes leave to implementations: */
#ifndef WEBLAB_ES_RPC_H
#define WEBLAB_ES_RPC_H

#include <apr_pools.h>
#include "es_conf.h"
#include "es_lab.h"
#include "es_log.h"

#define WEBLAB_ES_FAULT_PARSE       (-32700)  /* not an XML-RPC call */
#define WEBLAB_ES_FAULT_NO_METHOD   (-32601)  /* unknown method */
#define WEBLAB_ES_FAULT_PARAMS      (-32602)  /* wrong arity or types */
#define WEBLAB_ES_FAULT_INTERNAL    (-32603)  /* our bug or no memory */
#define WEBLAB_ES_FAULT_LAB         (-32500)  /* the lab failed or refused */
#define WEBLAB_ES_FAULT_AUTH        (-32001)  /* missing or wrong token */
#define WEBLAB_ES_FAULT_SESSION     (-32002)  /* unknown 2_concurrent session */

typedef struct weblab_es_rpc_t {
    weblab_es_api_e api;        /* the API this daemon speaks */
    weblab_es_lab_t *lab;
    weblab_es_log_t *log;
} weblab_es_rpc_t;

/* Handle one request body. authorized = 0 answers the auth fault without
 * parsing anything. *out (from p, *out_len bytes) is the XML of the
 * methodResponse, a fault included; this never fails. */
void weblab_es_rpc_handle(const char **out, apr_size_t *out_len,
                          weblab_es_rpc_t *rpc, const char *body,
                          apr_size_t body_len, int authorized,
                          apr_pool_t *p);

/* Name (without "Util.") of method i of the table, NULL past the end;
 * static storage. For --help. */
const char *weblab_es_rpc_method_name(unsigned i);

#endif
