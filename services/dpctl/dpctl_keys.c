/* dpctl keys: the CURVE key folder of dp_security.h. Certificates are made
   with dp_security_new_cert; an existing file is never overwritten, since
   that would lock out whoever holds the old secret. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dp_security.h"
#include "dp_validate.h"
#include "dpctl.h"
#include "dpctl_args.h"
#include "dpctl_output.h"

#define S_DIR_OPTION                                                                               \
    {                                                                                              \
        "dir", DPCTL_TEXT, "DIR", "the key folder (default: $DP_CURVE_DIR)"                        \
    }

/* One certificate pair on its way to the key folder. */
typedef struct {
    const char *name;      /* the file name's stem and the "name" metadata */
    const char *role;      /* the "role" metadata, or NULL (a service's own pair) */
    const char *sources;   /* the "sources" metadata (a feeder's), or NULL */
    char public[PATH_MAX]; /* where the public part goes */
    char secret[PATH_MAX]; /* where the secret part goes (mode 0600) */
    char public_key[41];   /* the public key (Z85), once written */
} s_pair_t;

/* The key folder: --dir, else $DP_CURVE_DIR; NULL after a usage error. */
static const char *s_dir(const dpctl_t *self, const dpctl_args_t *args, int *outcome)
{
    const char *dir = dpctl_args_text(args, "dir", dp_config_get(self->config, "DP_CURVE_DIR"));
    if (*dir)
        return dir;
    *outcome = dpctl_args_error(args, "no key folder: give --dir DIR or set DP_CURVE_DIR");
    return NULL;
}

/* Makes the folder unless it exists; 0, or -1 after saying why. */
static int s_make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "dpctl: cannot make the folder %s: %s\n", path, strerror(errno));
    return -1;
}

/* Fills the pair's paths: <dir>/<public_sub>/<name>.key and
   <dir>/<secret_sub>/<name>.key_secret, making the folders. 0 or -1. */
static int s_paths(s_pair_t *pair, const char *dir, const char *public_sub, const char *secret_sub)
{
    char public_dir[PATH_MAX], secret_dir[PATH_MAX];
    int a = snprintf(public_dir, sizeof public_dir, "%s/%s", dir, public_sub);
    int b = snprintf(secret_dir, sizeof secret_dir, "%s/%s", dir, secret_sub);
    int c = snprintf(pair->public, sizeof pair->public, "%s/%s.key", public_dir, pair->name);
    int d = snprintf(pair->secret, sizeof pair->secret, "%s/%s.key_secret", secret_dir, pair->name);
    if (a < 0 || b < 0 || c < 0 || d < 0 || (size_t)c >= sizeof pair->public ||
        (size_t)d >= sizeof pair->secret) {
        fprintf(stderr, "dpctl: the key folder's path is too long: %s\n", dir);
        return -1;
    }
    /* Secrets are 0600 wherever they are; private/ holds nothing else, so
       it is closed too. services/ stays open: clients read the public keys. */
    bool shared = strcmp(public_sub, secret_sub) == 0;
    if (s_make_dir(dir, 0755) != 0 || s_make_dir(public_dir, 0755) != 0 ||
        (!shared && s_make_dir(secret_dir, 0700) != 0))
        return -1;
    return 0;
}

static int s_refuse_existing(const s_pair_t *pair)
{
    const char *paths[] = {pair->public, pair->secret};
    for (size_t i = 0; i < 2; i++) {
        struct stat info;
        if (lstat(paths[i], &info) == 0) {
            fprintf(stderr,
                    "dpctl: %s exists; keys are never overwritten (to replace them, remove the "
                    "old files first)\n",
                    paths[i]);
            return -1;
        }
    }
    return 0;
}

/* Writes the pair; the secret is 0600 from its first byte on. 0 or -1. */
static int s_write(s_pair_t *pair)
{
    mode_t before = umask(077);
    int written = dp_security_new_client_cert(pair->public, pair->secret, pair->name, pair->role,
                                              pair->sources);
    umask(before);
    zcert_t *check = written == 0 ? zcert_load(pair->public) : NULL;
    if (!check || chmod(pair->secret, 0600) != 0 || chmod(pair->public, 0644 & ~before) != 0) {
        fprintf(stderr, "dpctl: cannot write %s and %s: %s\n", pair->public, pair->secret,
                strerror(errno));
        zcert_destroy(&check);
        return -1;
    }
    snprintf(pair->public_key, sizeof pair->public_key, "%s", zcert_public_txt(check));
    zcert_destroy(&check);
    return 0;
}

static int s_print_pair(const dpctl_t *self, const s_pair_t *pair, const char *use)
{
    if (self->json) {
        json_t *document =
            json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:s}", "name", pair->name, "role", pair->role,
                      "sources", pair->sources, "public_key", pair->public_key, "public",
                      pair->public, "secret", pair->secret);
        return dpctl_json_print(&document);
    }
    dpctl_print_field("name:", pair->name);
    if (pair->role)
        dpctl_print_field("role:", pair->role);
    if (pair->sources)
        dpctl_print_field("sources:", pair->sources);
    dpctl_print_field("public key:", pair->public_key);
    dpctl_print_field("public:", pair->public);
    dpctl_print_fieldf("secret:", "%s (mode 0600)", pair->secret);
    printf("\n%s\n", use);
    return DPCTL_EXIT_OK;
}

/* Checks the name, makes the folders, writes and prints the pair. */
static int s_make(const dpctl_t *self, const dpctl_args_t *args, s_pair_t *pair,
                  const char *public_sub, const char *secret_sub, const char *use)
{
    int outcome = DPCTL_EXIT_OK;
    const char *dir = s_dir(self, args, &outcome);
    if (!dir)
        return outcome;
    if (!dp_valid_slug(pair->name))
        return dpctl_args_error(args,
                                "NAME must be 1 to 63 lower-case letters, digits or inner "
                                "hyphens, not '%s'",
                                pair->name);
    if (s_paths(pair, dir, public_sub, secret_sub) != 0 || s_refuse_existing(pair) != 0 ||
        s_write(pair) != 0)
        return DPCTL_EXIT_FAILURE;
    return s_print_pair(self, pair, use);
}

/* ---- new ---------------------------------------------------------------------- */

static const dpctl_option_t s_new_options[] = {
    {"role", DPCTL_TEXT, "feeder|consumer|staff|service|frontend|health",
     "what the client may do: submit enquiries, read events, everything dpctl does, call "
     "services as a service, act for a named staff member (a trusted front end), or ask for "
     "health only",
     .required = true},
    {"sources", DPCTL_TEXT, "A,B",
     "a feeder's sources: the only sources it may submit under (default: its own NAME)"},
    S_DIR_OPTION,
    {NULL}};

static const dpctl_spec_t s_new_spec = {
    "keys new",
    "NAME",
    "Make a client certificate: DIR/clients/NAME.key (public, with the name, role and a "
    "feeder's sources; the services accept it at once) and DIR/private/NAME.key_secret (the "
    "client's DP_CURVE_CLIENT_CERT; hand it over safely and remove it from here).",
    1,
    1,
    s_new_options};

/* "a,b,c": each a slug, none empty, at most 255 bytes in all (the key
   store's limit). */
static bool s_valid_sources(const char *sources)
{
    if (strlen(sources) > 255)
        return false;
    char *copy = strdup(sources);
    bool valid = copy != NULL;
    char *rest = copy;
    for (char *item; valid && (item = strsep(&rest, ",")) != NULL;)
        valid = dp_valid_slug(item);
    free(copy);
    return valid;
}

static int s_new(dpctl_t *self, dpctl_args_t *args)
{
    s_pair_t pair = {.name = dpctl_args_operand(args, 0),
                     .role = dpctl_args_text(args, "role", "")};
    const char *sources = dpctl_args_text(args, "sources", "");
    pair.sources = *sources ? sources : NULL;
    if (dp_role_parse(pair.role) == DP_ROLE_NONE)
        return dpctl_args_error(args,
                                "--role must be one of "
                                "feeder|consumer|staff|service|frontend|health, not '%s'",
                                pair.role);
    if (pair.sources && dp_role_parse(pair.role) != DP_ROLE_FEEDER)
        return dpctl_args_error(args, "--sources is for --role feeder only");
    if (pair.sources && !s_valid_sources(pair.sources))
        return dpctl_args_error(args,
                                "--sources must be source names (lower-case letters, digits, "
                                "inner hyphens) separated by commas, not '%s'",
                                pair.sources);
    return s_make(self, args, &pair, "clients", "private",
                  "The client uses DP_CURVE_CLIENT_CERT=<the secret file above>, with "
                  "DP_CURVE_DIR holding services/*.key.");
}

static int s_new_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_new_spec, argc, argv, s_new);
}

/* ---- new-service -------------------------------------------------------------- */

static const dpctl_option_t s_service_options[] = {S_DIR_OPTION, {NULL}};

static const dpctl_spec_t s_service_spec = {
    "keys new-service",
    "NAME",
    "Make a service's own certificate: DIR/services/NAME.key (public, which clients read) and "
    "DIR/services/NAME.key_secret (only the service reads it). NAME is the service's: "
    "registry, intake, notify or report.",
    1,
    1,
    s_service_options};

static int s_service(dpctl_t *self, dpctl_args_t *args)
{
    s_pair_t pair = {.name = dpctl_args_operand(args, 0)};
    dpctl_service_t service;
    char names[128];
    if (dpctl_service_find(pair.name, &service) != 0)
        return dpctl_args_error(args, "NAME must be one of %s, not '%s'",
                                dpctl_service_names(names, sizeof names), pair.name);
    return s_make(self, args, &pair, "services", "services",
                  "The service loads it when started with DP_CURVE_DIR set to this folder.");
}

static int s_service_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_service_spec, argc, argv, s_service);
}

/* ---- list --------------------------------------------------------------------- */

static const dpctl_option_t s_list_options[] = {S_DIR_OPTION, {NULL}};

static const dpctl_spec_t s_list_spec = {
    "keys list",
    "",
    "List the clients the services accept (DIR/clients/*.key) with their roles, and whether "
    "their secret is still in DIR/private.",
    0,
    0,
    s_list_options};

static int s_by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the DIR/clients/NAME.key files, sorted (free each and the array); NULL after saying
 * why. */
static char **s_client_files(const char *clients, size_t *count)
{
    DIR *folder = opendir(clients);
    if (!folder) {
        fprintf(stderr, "dpctl: cannot read %s: %s\n", clients, strerror(errno));
        return NULL;
    }
    char **names = NULL;
    size_t room = 0;
    *count = 0;
    bool failed = false;
    for (struct dirent *entry; !failed && (entry = readdir(folder)) != NULL;) {
        size_t length = strlen(entry->d_name);
        if (entry->d_name[0] == '.' || length <= 4 || strcmp(entry->d_name + length - 4, ".key"))
            continue;
        if (*count == room) {
            room = room ? room * 2 : 16;
            char **grown = realloc(names, room * sizeof *grown);
            failed = !grown;
            names = grown ? grown : names;
        }
        if (!failed)
            failed = !(names[*count] = strndup(entry->d_name, length - 4));
        *count += !failed;
    }
    closedir(folder);
    if (failed) {
        fprintf(stderr, "dpctl: out of memory\n");
        while (*count > 0)
            free(names[--*count]);
        free(names);
        return NULL;
    }
    if (*count)
        qsort(names, *count, sizeof *names, s_by_name);
    return names ? names : calloc(1, sizeof *names);
}

/* Adds the client named `name` to the listing. 0 or -1. */
static int s_add_client(dpctl_listing_t *listing, const char *dir, const char *name)
{
    char public[PATH_MAX], secret[PATH_MAX];
    snprintf(public, sizeof public, "%s/clients/%s.key", dir, name);
    snprintf(secret, sizeof secret, "%s/private/%s.key_secret", dir, name);
    zcert_t *cert = zcert_load(public);
    const char *role = cert ? zcert_meta(cert, "role") : NULL;
    const char *meta_name = cert ? zcert_meta(cert, "name") : NULL;
    const char *sources = cert ? zcert_meta(cert, "sources") : NULL;
    struct stat info;
    bool has_secret = stat(secret, &info) == 0;
    const char *key = cert ? zcert_public_txt(cert) : "(unreadable)";
    const char *cells[] = {name, role ? role : "(none)", key, has_secret ? secret : "-"};
    json_t *object = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s, s:s?}", "name", name, "meta_name",
                               meta_name, "role", role, "sources", sources, "public_key", key,
                               "public", public, "secret", has_secret ? secret : NULL);
    int added = dpctl_listing_add_object(listing, object, cells);
    zcert_destroy(&cert);
    return added;
}

static int s_list(dpctl_t *self, const char *dir)
{
    static const char *headers[] = {"NAME", "ROLE", "PUBLIC KEY", "SECRET FILE"};
    char clients[PATH_MAX];
    snprintf(clients, sizeof clients, "%s/clients", dir);
    size_t count = 0;
    char **names = s_client_files(clients, &count);
    if (!names)
        return DPCTL_EXIT_FAILURE;
    dpctl_listing_t *listing = dpctl_listing_new(self->json, headers, 4);
    int outcome = listing ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < count; i++)
        if (s_add_client(listing, dir, names[i]) != 0)
            outcome = DPCTL_EXIT_FAILURE;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_listing_print(listing);
    if (outcome == DPCTL_EXIT_OK && !self->json)
        printf("\n%zu client%s in %s\n", count, count == 1 ? "" : "s", clients);
    dpctl_listing_destroy(&listing);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return outcome;
}

static int s_list_command(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    const char *dir = s_dir(self, args, &outcome);
    if (dir)
        outcome = s_list(self, dir);
    return outcome;
}

static int s_list_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_list_spec, argc, argv, s_list_command);
}

/* ---- revoke ------------------------------------------------------------------- */

static const dpctl_option_t s_revoke_options[] = {S_DIR_OPTION, {NULL}};

static const dpctl_spec_t s_revoke_spec = {
    "keys revoke",
    "NAME",
    "Revoke a client: DIR/clients/NAME.key moves, in one step, to DIR/clients/revoked/ (a "
    "subfolder, which the services never read; it stays on the same file system, and it "
    "tells the keys job not to make NAME again). Every service refuses the key within a "
    "second, connections already open included; live event subscribers are cut off.",
    1,
    1,
    s_revoke_options};

/* Moves `from` to DIR/clients/revoked/NAME.key, or NAME.key.2, .3, ... when
   that name is taken (a name revoked before). Within one file system, so
   the key leaves clients/ in one step (the unlink). 0, or -1 after saying
   why. */
static int s_move_revoked(const char *from, const char *revoked, const char *name, char *to,
                          size_t size)
{
    for (int attempt = 1; attempt < 1000; attempt++) {
        int length = attempt == 1 ? snprintf(to, size, "%s/%s.key", revoked, name)
                                  : snprintf(to, size, "%s/%s.key.%d", revoked, name, attempt);
        if (length < 0 || (size_t)length >= size)
            break;
        /* link refuses an existing target, so nothing revoked before is lost;
           then the name in clients/ goes, in one step. */
        if (link(from, to) == 0) {
            if (unlink(from) == 0)
                return 0;
            fprintf(stderr, "dpctl: cannot remove %s: %s\n", from, strerror(errno));
            unlink(to);
            return -1;
        }
        if (errno != EEXIST) {
            fprintf(stderr, "dpctl: cannot move %s to %s: %s\n", from, to, strerror(errno));
            return -1;
        }
    }
    fprintf(stderr, "dpctl: no free name for %s in %s\n", name, revoked);
    return -1;
}

static int s_revoke(const dpctl_t *self, const char *dir, const char *name)
{
    char from[PATH_MAX], revoked[PATH_MAX], to[PATH_MAX];
    int a = snprintf(from, sizeof from, "%s/clients/%s.key", dir, name);
    int b = snprintf(revoked, sizeof revoked, "%s/clients/revoked", dir);
    if (a < 0 || b < 0 || (size_t)a >= sizeof from || (size_t)b >= sizeof revoked) {
        fprintf(stderr, "dpctl: the key folder's path is too long: %s\n", dir);
        return DPCTL_EXIT_FAILURE;
    }
    struct stat info;
    if (lstat(from, &info) != 0) {
        fprintf(stderr,
                "dpctl: %s: %s (is NAME a client in this key folder? see dpctl keys "
                "list)\n",
                from, strerror(errno));
        return DPCTL_EXIT_FAILURE;
    }
    if (s_make_dir(revoked, 0755) != 0 || s_move_revoked(from, revoked, name, to, sizeof to) != 0)
        return DPCTL_EXIT_FAILURE;
    if (self->json) {
        json_t *document =
            json_pack("{s:s, s:s, s:s}", "name", name, "revoked", from, "moved_to", to);
        return dpctl_json_print(&document);
    }
    dpctl_print_field("name:", name);
    dpctl_print_field("revoked:", from);
    dpctl_print_field("moved to:", to);
    printf("\nThe services refuse this key from their next look at clients/ (within a "
           "second), open connections included. Its secret, if it is still in "
           "DIR/private/, no longer opens anything: delete it.\n");
    return DPCTL_EXIT_OK;
}

static int s_revoke_command(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    const char *name = dpctl_args_operand(args, 0);
    const char *dir = s_dir(self, args, &outcome);
    if (dir && !dp_valid_slug(name))
        outcome = dpctl_args_error(args,
                                   "NAME must be 1 to 63 lower-case letters, digits or inner "
                                   "hyphens, not '%s'",
                                   name);
    else if (dir)
        outcome = s_revoke(self, dir, name);
    return outcome;
}

static int s_revoke_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_revoke_spec, argc, argv, s_revoke_command);
}

static const dpctl_command_t s_commands[] = {
    {"new", "make a client's certificate: NAME --role ROLE", s_new_run},
    {"new-service", "make a service's own certificate: NAME", s_service_run},
    {"list", "list the clients the services accept, with their roles", s_list_run},
    {"revoke", "refuse a client from now on, connected or not: NAME", s_revoke_run},
};

static const dpctl_group_t s_group = {
    "keys",
    "The CURVE key folder (DP_CURVE_DIR): services/ holds each service's certificate, "
    "clients/ the public certificates of the clients the services accept (with their role; "
    "only clients/NAME.key files count, nothing in a subfolder), private/ the secrets made "
    "here for clients.",
    s_commands, sizeof s_commands / sizeof s_commands[0]};

int dpctl_keys_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}
