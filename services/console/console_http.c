/* The web server: libmicrohttpd with a pool of threads (each may wait for
   one reply of another service, never for another thread), the door every
   request passes (dp_http_refused), forms read with libmicrohttpd's post
   processor, the session from its cookie, the CSRF check of every POST,
   the headers of every answer, and the table of pages. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "console_html.h"
#include "console_service.h"
#include "dp_log.h"

extern const char console_css[];

/* A form larger than this is refused: the largest field is a reply body. */
enum { MAX_FORM_BYTES = 256 * 1024, MAX_FIELD_BYTES = 64 * 1024 };

/* libmicrohttpd's request state: the request as pages see it, and the
   reading of its form. */
typedef struct {
    console_request_t request;
    struct MHD_PostProcessor *post;
    size_t form_bytes;
    bool too_large;
} state_t;

static const char s_csp[] = "default-src 'none'; style-src 'self'; img-src 'self'; "
                            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

static void s_headers(console_request_t *request, struct MHD_Response *response,
                      const char *content_type)
{
    if (*request->set_cookie)
        MHD_add_response_header(response, "Set-Cookie", request->set_cookie);
    MHD_add_response_header(response, "Content-Type", content_type);
    MHD_add_response_header(response, "Content-Security-Policy", s_csp);
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "Referrer-Policy", "same-origin");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    MHD_add_response_header(response, "Cache-Control", "no-store");
}

static console_result_t s_queue(console_request_t *request, unsigned status,
                                struct MHD_Response *response)
{
    if (!response)
        return MHD_NO;
    enum MHD_Result outcome = MHD_queue_response(request->connection, status, response);
    MHD_destroy_response(response);
    return outcome;
}

console_result_t console_send_html(console_request_t *request, unsigned status, char *html,
                                   size_t size)
{
    if (!html)
        return MHD_NO;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(size, html, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free(html);
        return MHD_NO;
    }
    s_headers(request, response, "text/html; charset=utf-8");
    return s_queue(request, status, response);
}

console_result_t console_send_text(console_request_t *request, unsigned status,
                                   const char *content_type, const char *text)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (response)
        s_headers(request, response, content_type);
    return s_queue(request, status, response);
}

void console_set_cookie(console_request_t *request, const char *name, const char *value,
                        long max_age_s)
{
    snprintf(request->set_cookie, sizeof request->set_cookie,
             "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s", name, value, max_age_s,
             request->console->policy.secure_cookies ? "; Secure" : "");
}

/* location is a path of ours, made by the pages. */
console_result_t console_redirect(console_request_t *request, const char *location)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!response)
        return MHD_NO;
    s_headers(request, response, "text/plain; charset=utf-8");
    MHD_add_response_header(response, "Location", location);
    return s_queue(request, MHD_HTTP_SEE_OTHER, response);
}

const char *console_arg(const console_request_t *request, const char *name)
{
    const char *value =
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
    return value ? value : "";
}

const char *console_field(const console_request_t *request, const char *name)
{
    const char *value = request->form ? zhash_lookup(request->form, name) : NULL;
    return value ? value : "";
}

bool console_is_admin(const console_request_t *request)
{
    return request->signed_in && strcmp(request->account.role, "admin") == 0;
}

/* ---- forms ------------------------------------------------------------------------ */

static enum MHD_Result s_form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    state_t *state = cls;
    state->form_bytes += size + strlen(key);
    if (state->form_bytes > MAX_FORM_BYTES) {
        state->too_large = true;
        return MHD_NO;
    }
    /* A field may come in pieces: each piece is appended. */
    const char *before = off > 0 ? zhash_lookup(state->request.form, key) : NULL;
    size_t kept = before ? strlen(before) : 0;
    if (kept + size > MAX_FIELD_BYTES) {
        state->too_large = true;
        return MHD_NO;
    }
    char *value = malloc(kept + size + 1);
    if (!value)
        return MHD_NO;
    memcpy(value, before ? before : "", kept);
    memcpy(value + kept, data, size);
    value[kept + size] = '\0';
    zhash_update(state->request.form, key, value);
    zhash_freefn(state->request.form, key, free);
    return MHD_YES;
}

/* ---- sessions ----------------------------------------------------------------------- */

/* Reads the session cookie; signs the request in when the session lives. */
static int s_session(console_request_t *request)
{
    const char *token =
        MHD_lookup_connection_value(request->connection, MHD_COOKIE_KIND, "dp_session");
    if (!token || strlen(token) != CONSOLE_TOKEN_TEXT - 1)
        return 0;
    snprintf(request->session_token, sizeof request->session_token, "%s", token);
    char hash[CONSOLE_HASH_HEX];
    console_token_hash(token, hash);
    int found =
        console_db_session(request->worker->db, hash, &request->console->policy, &request->account);
    if (found != 1)
        return found;
    request->signed_in = true;
    console_csrf_of(token, request->csrf);
    snprintf(request->person, sizeof request->person, "%s", request->account.name);
    return 1;
}

static bool s_csrf_ok(const console_request_t *request)
{
    return console_same_text(console_field(request, "csrf"), request->csrf);
}

static void s_address(console_request_t *request)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(request->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(request->address, sizeof request->address, "unknown");
    if (info && info->client_addr && info->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)info->client_addr;
        inet_ntop(AF_INET, &in->sin_addr, request->address, sizeof request->address);
    }
}

/* ---- the pages -------------------------------------------------------------------- */

static bool s_is(const console_request_t *request, const char *method, const char *path)
{
    return strcmp(request->method, method) == 0 && strcmp(request->path, path) == 0;
}

/* "/enquiries/12" or "/enquiries/12/assign": the id and the action ("" when none). */
static bool s_enquiry_path(const char *path, int64_t *id, char action[24])
{
    int consumed = 0;
    long long value = 0;
    action[0] = '\0';
    if (sscanf(path, "/enquiries/%18lld%n", &value, &consumed) != 1 || value <= 0)
        return false;
    *id = value;
    const char *rest = path + consumed;
    if (*rest == '\0')
        return true;
    return sscanf(rest, "/%23[a-z]%n", action, &consumed) == 1 && rest[consumed] == '\0';
}

/* "/partners/acme" or "/partners/acme/rename". */
static bool s_partner_path(const char *path, char slug[64], char action[24])
{
    int consumed = 0;
    action[0] = '\0';
    if (sscanf(path, "/partners/%63[a-z0-9-]%n", slug, &consumed) != 1)
        return false;
    const char *rest = path + consumed;
    if (*rest == '\0')
        return true;
    return sscanf(rest, "/%23[a-z-]%n", action, &consumed) == 1 && rest[consumed] == '\0';
}

static console_result_t s_forbidden(console_request_t *request, const char *why)
{
    console_page_t page;
    if (!console_page_begin(&page, request, TXT->forbidden_title, ""))
        return MHD_NO;
    console_put(&page, "<p role=\"alert\" class=\"error\">");
    console_esc(&page, why);
    console_put(&page, "</p>");
    return console_page_end(&page, MHD_HTTP_FORBIDDEN);
}

static console_result_t s_signed_in_page(console_request_t *request)
{
    bool post = strcmp(request->method, "POST") == 0;
    if (post && !s_csrf_ok(request)) {
        dp_warning("audit: refused a form without its token from %s for %s", request->address,
                   request->account.login);
        return s_forbidden(request, TXT->csrf_refused);
    }
    int64_t id = 0;
    char action[24], slug[64];
    if (s_is(request, "GET", "/"))
        return console_redirect(request, "/queue?view=mine");
    if (s_is(request, "POST", "/logout"))
        return console_post_logout(request, false);
    if (s_is(request, "POST", "/logout-everywhere"))
        return console_post_logout(request, true);
    if (s_is(request, "GET", "/queue"))
        return console_page_queue(request);
    if (s_enquiry_path(request->path, &id, action)) {
        if (!post && !*action)
            return console_page_enquiry(request, id);
        if (post && *action)
            return console_post_enquiry(request, id, action);
        return console_page_not_found(request);
    }
    if (s_is(request, "GET", "/partners"))
        return console_page_partners(request);
    if (s_partner_path(request->path, slug, action)) {
        if (!post && !*action)
            return console_page_partner(request, slug);
        if (post && *action) {
            if (!console_is_admin(request))
                return s_forbidden(request, TXT->admins_only);
            return console_post_partner(request, slug, action);
        }
        return console_page_not_found(request);
    }
    if (strncmp(request->path, "/admin/", 7) == 0 && !console_is_admin(request))
        return s_forbidden(request, TXT->admins_only);
    if (s_is(request, "GET", "/admin/staff"))
        return console_page_admin_staff(request);
    if (s_is(request, "POST", "/admin/staff"))
        return console_post_admin_staff(request);
    if (s_is(request, "GET", "/admin/events"))
        return console_page_admin_events(request);
    if (s_is(request, "POST", "/admin/events"))
        return console_post_admin_events(request);
    return console_page_not_found(request);
}

static console_result_t s_dispatch(console_request_t *request)
{
    if (s_is(request, "GET", "/health"))
        return console_send_text(request, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n");
    if (s_is(request, "GET", "/favicon.ico"))
        return console_send_text(request, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
                                 "no icon\n");
    if (s_is(request, "GET", "/static/console.css"))
        return console_send_text(request, MHD_HTTP_OK, "text/css; charset=utf-8", console_css);
    if (strcmp(request->method, "GET") && strcmp(request->method, "HEAD") &&
        strcmp(request->method, "POST"))
        return console_send_text(request, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                                 "method not allowed\n");
    if (s_session(request) < 0)
        return console_page_failure(request, NULL);
    if (s_is(request, "GET", "/login"))
        return request->signed_in ? console_redirect(request, "/queue?view=mine")
                                  : console_page_login(request, NULL, MHD_HTTP_OK);
    if (s_is(request, "POST", "/login"))
        return console_post_login(request);
    if (!request->signed_in)
        return console_redirect(request, "/login");
    return s_signed_in_page(request);
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *connection, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **request_state)
{
    console_t *console = cls;
    /* The door: on the first call *request_state is NULL, or the door's
       mark of a bad target; afterwards it is ours, which the door passes. */
    enum MHD_Result refusal;
    if (dp_http_refused(connection, version, request_state, &refusal))
        return refusal;
    state_t *state = *request_state;
    if (!state) {
        state = calloc(1, sizeof *state);
        if (!state)
            return MHD_NO;
        state->request.console = console;
        state->request.connection = connection;
        /* HEAD is answered as GET (libmicrohttpd leaves the body out). */
        state->request.method = strcmp(method, "HEAD") == 0 ? "GET" : method;
        state->request.path = url;
        state->request.form = zhash_new();
        s_address(&state->request);
        if (strcmp(method, "POST") == 0)
            state->post = MHD_create_post_processor(connection, 16 * 1024, s_form_field, state);
        *request_state = state;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (state->post && !state->too_large &&
            MHD_post_process(state->post, upload_data, *upload_data_size) != MHD_YES)
            state->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    console_request_t *request = &state->request;
    if (state->too_large || (strcmp(method, "POST") == 0 && !state->post))
        return console_send_text(request, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain; charset=utf-8",
                                 "the form is too large or not a form\n");
    int64_t started = zclock_usecs();
    request->worker = console_worker_take(console);
    if (!request->worker)
        return console_send_text(request, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
                                 "out of memory\n");
    console_result_t result = s_dispatch(request);
    console_worker_give(console, request->worker);
    request->worker = NULL;
    dp_metrics_observe_request(console->metrics, "web", result == MHD_YES ? 0 : 13,
                               (double)(zclock_usecs() - started) / 1e6);
    return result;
}

static void s_completed(void *cls, struct MHD_Connection *connection, void **request_state,
                        enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)connection, (void)code;
    state_t *state = *request_state;
    if (!state || dp_http_marked_bad(state))
        return;
    if (state->post)
        MHD_destroy_post_processor(state->post);
    zhash_destroy(&state->request.form);
    free(state);
    *request_state = NULL;
}

int console_http_start(console_t *console, const char *address, int port,
                       const dp_http_limits_t *limits)
{
    int bound = 0;
    console->http = dp_http_start_completed(address, port, *limits, s_handle, console, s_completed,
                                            console, &bound);
    if (!console->http) {
        dp_error("cannot serve the console's pages on %s:%d", address, port);
        return -1;
    }
    snprintf(console->port, sizeof console->port, "%d", bound);
    return 0;
}

void console_http_stop(console_t *console)
{
    if (console->http)
        MHD_stop_daemon(console->http);
    console->http = NULL;
}

/* ---- pages of refusal -------------------------------------------------------------- */

unsigned console_http_status(const dp_status_t *status)
{
    switch (status->code) {
    case DP__CODE__CODE_INVALID_ARGUMENT:
    case DP__CODE__CODE_OUT_OF_RANGE:
        return MHD_HTTP_BAD_REQUEST;
    case DP__CODE__CODE_NOT_FOUND:
        return MHD_HTTP_NOT_FOUND;
    case DP__CODE__CODE_ALREADY_EXISTS:
    case DP__CODE__CODE_FAILED_PRECONDITION:
    case DP__CODE__CODE_ABORTED:
        return MHD_HTTP_CONFLICT;
    case DP__CODE__CODE_PERMISSION_DENIED:
    case DP__CODE__CODE_UNAUTHENTICATED:
        return MHD_HTTP_FORBIDDEN;
    case DP__CODE__CODE_RESOURCE_EXHAUSTED:
        return MHD_HTTP_TOO_MANY_REQUESTS;
    default:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    }
}

console_result_t console_page_failure(console_request_t *request, const dp_status_t *status)
{
    unsigned code = status ? console_http_status(status) : MHD_HTTP_SERVICE_UNAVAILABLE;
    console_page_t page;
    if (!console_page_begin(
            &page, request,
            code == MHD_HTTP_SERVICE_UNAVAILABLE ? TXT->unavailable_title : TXT->refused_title, ""))
        return MHD_NO;
    console_put(&page, "<p role=\"alert\" class=\"notice error\" id=\"failure\">");
    if (status && *status->message) {
        if (*status->field) {
            console_esc(&page, status->field);
            console_put(&page, ": ");
        }
        console_esc(&page, status->message);
    } else
        console_esc(&page, TXT->database_unavailable);
    console_put(&page, "</p>\n<p><a href=\"/queue?view=mine\">%s</a></p>\n", TXT->back_to_queue);
    return console_page_end(&page, code);
}

console_result_t console_page_not_found(console_request_t *request)
{
    console_page_t page;
    if (!console_page_begin(&page, request, TXT->not_found_title, ""))
        return MHD_NO;
    console_put(&page, "<p>%s</p>\n<p><a href=\"/queue?view=mine\">%s</a></p>\n", TXT->not_found,
                TXT->back_to_queue);
    return console_page_end(&page, MHD_HTTP_NOT_FOUND);
}
