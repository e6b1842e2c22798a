#include "dp_keystore.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "dp_log.h"
#include "dp_security.h"

enum { S_CHECK_INTERVAL_MS = 1000 };

struct _dp_keystore_t {
    char *clients;               /* <curve_dir>/clients */
    zhashx_t *keys;              /* Z85 public key -> dp_key_info_t (owned) */
    char *signature;             /* what the last listing saw: names, inodes, sizes, times */
    int64_t next_check;          /* zclock_mono after which the folder is listed again */
    struct timespec folder_time; /* clients/'s mtime at the last listing */
    uint64_t generation;         /* grows when a key leaves or changes */
};

static void s_info_free(void **item)
{
    free(*item);
    *item = NULL;
}

/* True for a name that may hold an allowed key: "<stem>.key", not hidden. */
static bool s_counts(const char *name)
{
    size_t length = strlen(name);
    return name[0] != '.' && length > 4 && strcmp(name + length - 4, ".key") == 0;
}

/* Lists the files that count, as one text that changes whenever any of
   them is added, removed, renamed or rewritten. NULL when the folder
   cannot be read. */
static char *s_signature(const dp_keystore_t *self)
{
    DIR *dir = opendir(self->clients);
    if (!dir)
        return NULL;
    char *text = strdup("");
    struct dirent *entry;
    while (text && (entry = readdir(dir))) {
        if (!s_counts(entry->d_name))
            continue;
        char *path = zsys_sprintf("%s/%s", self->clients, entry->d_name);
        struct stat info;
        /* stat, not lstat: a mounted secret is often a link to the file
           (Kubernetes); what counts is that the target is a regular file. */
        bool regular = path && stat(path, &info) == 0 && S_ISREG(info.st_mode);
        zstr_free(&path);
        if (!regular)
            continue;
        char *longer = zsys_sprintf("%s%s %llu %lld %lld.%09ld\n", text, entry->d_name,
                                    (unsigned long long)info.st_ino, (long long)info.st_size,
                                    (long long)info.st_mtim.tv_sec, info.st_mtim.tv_nsec);
        free(text);
        text = longer;
    }
    closedir(dir);
    return text;
}

/* Reads every file named in the signature into a new table. */
static zhashx_t *s_load(const dp_keystore_t *self, const char *signature)
{
    zhashx_t *keys = zhashx_new();
    if (!keys)
        return NULL;
    zhashx_set_destructor(keys, s_info_free);
    const char *line = signature;
    while (*line) {
        const char *space = strchr(line, ' ');
        const char *end = strchr(line, '\n');
        if (!space || !end)
            break;
        char *path = zsys_sprintf("%s/%.*s", self->clients, (int)(space - line), line);
        zcert_t *cert = path ? zcert_load(path) : NULL;
        dp_key_info_t *info = cert ? calloc(1, sizeof *info) : NULL;
        if (info) {
            const char *name = zcert_meta(cert, "name");
            const char *role = zcert_meta(cert, "role");
            const char *sources = zcert_meta(cert, "sources");
            if (name && *name)
                snprintf(info->name, sizeof info->name, "%s", name);
            else
                snprintf(info->name, sizeof info->name, "%.*s", (int)(space - line - 4), line);
            info->role = dp_role_parse(role);
            snprintf(info->role_name, sizeof info->role_name, "%s", info->role ? role : "none");
            snprintf(info->sources, sizeof info->sources, "%s", sources ? sources : "");
            zhashx_update(keys, zcert_public_txt(cert), info);
        } else if (!cert)
            dp_warning("key store: %s is not a certificate; ignored", path ? path : "?");
        zcert_destroy(&cert);
        zstr_free(&path);
        line = end + 1;
    }
    return keys;
}

/* True when every key of `old` is in `new` with the same metadata. */
static bool s_nothing_left(zhashx_t *old, zhashx_t *new)
{
    for (dp_key_info_t *info = zhashx_first(old); info; info = zhashx_next(old)) {
        const dp_key_info_t *now = zhashx_lookup(new, zhashx_cursor(old));
        if (!now || memcmp(now, info, sizeof *now) != 0)
            return false;
    }
    return true;
}

static void s_reload(dp_keystore_t *self)
{
    char *signature = s_signature(self);
    if (!signature && self->signature && !*self->signature)
        return; /* still unreadable, still empty */
    if (signature && self->signature && strcmp(signature, self->signature) == 0) {
        free(signature);
        return;
    }
    if (!signature)
        dp_warning("key store: cannot read %s (%s): every client key is refused", self->clients,
                   strerror(errno));
    zhashx_t *keys = s_load(self, signature ? signature : "");
    if (!keys) {
        /* Out of memory: keep the old table and try again next time. */
        free(signature);
        return;
    }
    if (self->keys && !s_nothing_left(self->keys, keys))
        self->generation++;
    zhashx_destroy(&self->keys);
    self->keys = keys;
    free(self->signature);
    self->signature = signature ? signature : strdup("");
    dp_debug("key store: %zu client keys in %s", zhashx_size(keys), self->clients);
}

/* clients/'s modification time, or zero when it cannot be read. */
static struct timespec s_folder_time(const dp_keystore_t *self)
{
    struct stat info;
    if (stat(self->clients, &info) != 0)
        return (struct timespec){0, 0};
    return info.st_mtim;
}

dp_keystore_t *dp_keystore_new(const char *curve_dir)
{
    dp_keystore_t *self = calloc(1, sizeof *self);
    if (self)
        self->clients = zsys_sprintf("%s/clients", curve_dir);
    if (self && self->clients) {
        self->folder_time = s_folder_time(self);
        s_reload(self);
    }
    if (!self || !self->keys) {
        dp_keystore_destroy(&self);
        return NULL;
    }
    self->next_check = zclock_mono() + S_CHECK_INTERVAL_MS;
    return self;
}

void dp_keystore_destroy(dp_keystore_t **self_p)
{
    dp_keystore_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->keys);
    free(self->signature);
    zstr_free(&self->clients);
    free(self);
    *self_p = NULL;
}

void dp_keystore_refresh(dp_keystore_t *self)
{
    /* A file added, removed or renamed changes the folder's time: that is
       seen at once (one stat). A file rewritten in place is not, so the
       folder is listed in full at most once a second as well. */
    int64_t now = zclock_mono();
    struct timespec folder_time = s_folder_time(self);
    bool moved = folder_time.tv_sec != self->folder_time.tv_sec ||
                 folder_time.tv_nsec != self->folder_time.tv_nsec;
    if (!moved && now < self->next_check)
        return;
    self->folder_time = folder_time;
    s_reload(self);
    self->next_check = now + S_CHECK_INTERVAL_MS;
}

bool dp_keystore_lookup(const dp_keystore_t *self, const char *public_z85, dp_key_info_t *info)
{
    const dp_key_info_t *found = public_z85 ? zhashx_lookup(self->keys, public_z85) : NULL;
    if (found && info)
        *info = *found;
    return found != NULL;
}

uint64_t dp_keystore_generation(const dp_keystore_t *self)
{
    return self->generation;
}

size_t dp_keystore_size(const dp_keystore_t *self)
{
    return zhashx_size(self->keys);
}
