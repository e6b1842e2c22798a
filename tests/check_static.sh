#!/usr/bin/env bash
# Static checks of the services' sources (ctest: static_checks). Fails when
#
#  1. SQL text reaches libpq from anything but a constant: the SQL (or
#     statement-name) argument of every PQexec, PQexecParams, PQprepare,
#     PQexecPrepared, PQsendQuery*, PQsendPrepare and PQdescribePrepared
#     call in services/, and the script argument of the wrappers that hand
#     text to PQexec (dp_db_run_script, dp_db_listen, dp_db.c's s_command),
#     must be string literals, #define'd macros (concatenated, or a
#     file-scope `const char *` initialised with a literal), or one of the
#     call sites whitelisted below by file:function:argument (dp_db.c runs
#     the entries of dp_statement_t tables and forwards its wrappers' text;
#     dp-migrate runs the migrations embedded at build time). Any other call
#     site with a non-constant argument fails. The SQL of every entry of a
#     dp_statement_t table must be a constant too.
#  2. SQL is built with sprintf, snprintf, strcat and friends: a call whose
#     format or text holds an SQL keyword (SELECT ... FROM, WHERE, ...), whose
#     destination is named like SQL (sql, query, stmt, statement), whose
#     format is a #define or constant holding SQL, or that has an SQL
#     string literal within three lines of it.
#  3. CURVE_ALLOW_ANY (or zauth's "CURVE", "*") is used anywhere in
#     services/ (C comments excepted: the header says it is never used) or
#     appears at all in deploy/.
#
# Grep-level heuristics on comment-stripped C, tuned to this code's layout
# (functions start at column 0, their brace on the next line). Before
# checking the tree, the script checks itself on planted violations, so
# that it cannot pass by finding nothing.
#
# Usage: tests/check_static.sh [REPO_ROOT]   (default: the script's parent)
set -euo pipefail

ROOT=${1:-"$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"}

# file:function:argument of the call sites allowed a non-literal SQL argument.
WHITELIST='
services/common/dp_db.c:s_ensure_prepared:statement->name
services/common/dp_db.c:s_ensure_prepared:statement->sql
services/common/dp_db.c:dp_db_run_binary:statement->name
services/common/dp_db.c:s_command:command
services/common/dp_db.c:dp_db_listen:listen_sql
services/common/dp_db.c:dp_db_run_script:script
services/migrate/migrate_main.c:s_apply_body:apply->migration->sql
'

# The analysis of one C file. Variables: file (relative path), defines
# (names of #define'd macros, space-separated), constants (file-scope
# constant strings), whitelist (entries as above, space-separated).
# Prints one "file:line: problem" per violation.
read -r -d '' AWK_PROGRAM <<'AWK' || true
function trim(s) { sub(/^[ \t\n]+/, "", s); sub(/[ \t\n]+$/, "", s); return s }

# Parses "(a, b(c, d), "x,y")..." from its opening parenthesis; fills ARGS
# and returns the count, or -1 when the parentheses do not close.
function parse_args(buf,    p, c, depth, instr, q, arg, n, len) {
    depth = 0; instr = 0; arg = ""; n = 0; len = length(buf)
    for (p = 1; p <= len; p++) {
        c = substr(buf, p, 1)
        if (instr) {
            arg = arg c
            if (c == "\\") { arg = arg substr(buf, p + 1, 1); p++ }
            else if (c == q) instr = 0
            continue
        }
        if (c == "\"" || c == "'") { instr = 1; q = c; arg = arg c; continue }
        if (c == "(" || c == "[" || c == "{") {
            depth++
            if (depth == 1 && c == "(") continue
            arg = arg c; continue
        }
        if (c == ")" || c == "]" || c == "}") {
            depth--
            if (depth == 0) { ARGS[++n] = trim(arg); return n }
            arg = arg c; continue
        }
        if (c == "," && depth == 1) { ARGS[++n] = trim(arg); arg = ""; continue }
        if (depth >= 1) arg = arg c
    }
    return -1
}

# The string literals of s, concatenated (escapes kept).
function literals(s,    out, p, c, len, instr) {
    out = ""; instr = 0; len = length(s)
    for (p = 1; p <= len; p++) {
        c = substr(s, p, 1)
        if (instr) {
            if (c == "\\") { out = out c substr(s, p + 1, 1); p++; continue }
            if (c == "\"") { instr = 0; out = out " "; continue }
            out = out c; continue
        }
        if (c == "\"") instr = 1
    }
    return out
}

function has_sql(text,    lower) {
    if (text ~ /(^|[^A-Za-z_])(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES|RETURNING|JOIN|CREATE|ALTER|DROP|GRANT|REVOKE|TRUNCATE|LISTEN|UNION|LIMIT|COPY|EXECUTE|PREPARE)([^A-Za-z_]|$)/)
        return 1
    if (text ~ /(^|[^A-Za-z_])FROM [a-z_]/) return 1
    lower = tolower(text)
    return lower ~ /select .* from |insert into |delete from |update [a-z_.]+ set |drop table |create table /
}

# True when the expression is constant SQL: literals and #define'd macros
# (with their arguments), or one constant name.
function is_constant(s,    id, p, c, depth, instr, len) {
    s = trim(s); gsub(/[ \t\n]+/, " ", s)
    if (s == "") return 0
    if (s ~ /^[A-Za-z_][A-Za-z0-9_]*$/) return (s in DEF) || (s in CONST)
    while (s != "") {
        sub(/^ +/, "", s)
        if (s == "") break
        if (substr(s, 1, 1) == "\"") {
            len = length(s)
            for (p = 2; p <= len; p++) {
                c = substr(s, p, 1)
                if (c == "\\") { p++; continue }
                if (c == "\"") break
            }
            if (p > len) return 0
            s = substr(s, p + 1); continue
        }
        if (match(s, /^[A-Za-z_][A-Za-z0-9_]*/)) {
            id = substr(s, 1, RLENGTH)
            if (!(id in DEF)) return 0
            s = substr(s, RLENGTH + 1); sub(/^ +/, "", s)
            if (substr(s, 1, 1) == "(") {
                depth = 0; instr = 0; len = length(s)
                for (p = 1; p <= len; p++) {
                    c = substr(s, p, 1)
                    if (instr) { if (c == "\\") p++; else if (c == "\"") instr = 0; continue }
                    if (c == "\"") { instr = 1; continue }
                    if (c == "(") depth++
                    if (c == ")" && --depth == 0) break
                }
                if (p > len) return 0
                s = substr(s, p + 1)
            }
            continue
        }
        return 0
    }
    return 1
}

function report(line, message) {
    printf "%s:%d: %s\n", file, line, message
    problems++
}

# The text of a call from its "(" on line i, joined with the following
# lines until its parentheses close; sets LAST to the line it ends on.
function call_text(i, rest,    buf, k, n) {
    buf = rest; k = i
    while ((n = parse_args(buf)) < 0 && k < NR) { k++; buf = buf "\n" S[k] }
    LAST = k
    return n
}

{ L[NR] = $0 }

END {
    split(defines, list, " "); for (x in list) DEF[list[x]] = 1
    split(constants, list, " "); for (x in list) CONST[list[x]] = 1
    split(whitelist, list, " "); for (x in list) WHITE[list[x]] = 1
    for (x in list) delete list[x]
    problems = 0

    # Comments become blanks (string and character literals are kept).
    state = 0
    for (i = 1; i <= NR; i++) {
        line = L[i]; out = ""; n = length(line)
        for (j = 1; j <= n; j++) {
            c = substr(line, j, 1)
            if (state == 3) {
                if (c == "*" && substr(line, j + 1, 1) == "/") { state = 0; j++; out = out "  " }
                else out = out " "
                continue
            }
            if (state == 1 || state == 2) {
                out = out c
                if (c == "\\") { out = out substr(line, j + 1, 1); j++ }
                else if ((state == 1 && c == "\"") || (state == 2 && c == "'")) state = 0
                continue
            }
            if (c == "/" && substr(line, j + 1, 1) == "*") { state = 3; out = out "  "; j++; continue }
            if (c == "/" && substr(line, j + 1, 1) == "/") break
            if (c == "\"") state = 1
            else if (c == "'") state = 2
            out = out c
        }
        if (state == 1 || state == 2) state = 0
        S[i] = out
    }

    # The function each line belongs to: a line at column 0 naming one
    # before "(", then "{" at column 0.
    func_name = ""; candidate = ""
    for (i = 1; i <= NR; i++) {
        l = S[i]; DECL[i] = ""
        if (l ~ /^[A-Za-z_]/ && index(l, "(") && l !~ /^(typedef|struct|enum|union)[ \t]/) {
            pre = substr(l, 1, index(l, "(") - 1)
            if (match(pre, /[A-Za-z_][A-Za-z0-9_]*[ \t]*$/)) {
                candidate = substr(pre, RSTART, RLENGTH); gsub(/[ \t]/, "", candidate)
                DECL[i] = candidate
            }
        }
        if (l ~ /^\{/) func_name = candidate
        F[i] = func_name
        if (l ~ /^\}/) func_name = ""
    }

    SQL_CALLS = "(PQexec|PQexecParams|PQprepare|PQexecPrepared|PQsendQuery[A-Za-z]*|PQsendPrepare|PQdescribePrepared|dp_db_run_script|dp_db_listen|s_command)[ \t]*\\("
    BUILD_CALLS = "(sprintf|snprintf|vsprintf|vsnprintf|asprintf|vasprintf|strcat|strncat|strcpy|strncpy|stpcpy|stpncpy|zsys_sprintf|zsys_vprintf)[ \t]*\\("

    for (i = 1; i <= NR; i++) {
        # 1. SQL handed to libpq, or to the wrappers that hand it on.
        rest = S[i]; offset = 0
        while (match(rest, SQL_CALLS)) {
            start = RSTART; length_ = RLENGTH
            name = substr(rest, start, length_ - 1); gsub(/[ \t]/, "", name)
            before = start > 1 ? substr(rest, start - 1, 1) : ""
            tail = substr(rest, start + length_ - 1)
            rest = substr(rest, start + length_)
            if (before ~ /[A-Za-z0-9_]/) continue
            if (DECL[i] == name) continue # its definition or prototype
            if (name == "s_command" && file !~ /dp_db\.c$/) continue
            n = call_text(i, tail)
            if (n < 0) { report(i, name ": cannot read its arguments"); continue }
            first = 2; second = 0
            if (name == "PQprepare" || name == "PQsendPrepare") second = 3
            for (a = first; a <= (second ? second : first); a++) {
                if (a > n) continue
                arg = ARGS[a]; flat = arg; gsub(/[ \t\n]+/, "", flat)
                if (is_constant(arg)) continue
                if ((file ":" F[i] ":" flat) in WHITE) continue
                report(i, name "() in " (F[i] == "" ? "(file scope)" : F[i] "()") \
                       " gets SQL that is not a constant: " flat)
            }
        }

        # 2. SQL built with the string functions.
        rest = S[i]
        while (match(rest, BUILD_CALLS)) {
            start = RSTART; length_ = RLENGTH
            name = substr(rest, start, length_ - 1); gsub(/[ \t]/, "", name)
            before = start > 1 ? substr(rest, start - 1, 1) : ""
            tail = substr(rest, start + length_ - 1)
            rest = substr(rest, start + length_)
            if (before ~ /[A-Za-z0-9_]/) continue
            if (DECL[i] == name) continue
            n = call_text(i, tail)
            if (n < 0) continue
            why = ""
            destination = tolower(ARGS[1])
            if (match(destination, /[a-z_][a-z0-9_]*[^a-z0-9_]*$/))
                destination = substr(destination, RSTART, RLENGTH)
            sub(/[^a-z0-9_].*$/, "", destination)
            if (destination ~ /(^|_)(sql|query|stmt|statement)(_|$)/)
                why = "its destination is named like SQL"
            for (a = 1; a <= n && why == ""; a++) {
                if (has_sql(literals(ARGS[a]))) why = "its text holds SQL"
                id = trim(ARGS[a])
                if (id in DEFBODY && has_sql(literals(DEFBODY[id])))
                    why = "its format " id " holds SQL"
            }
            for (k = (i > 3 ? i - 3 : 1); k <= LAST + 3 && k <= NR && why == ""; k++)
                if (has_sql(literals(S[k]))) why = "SQL text is written within three lines of it"
            if (why != "") report(i, name "() in " F[i] "() may build SQL: " why)
        }

        # 3. CURVE for anyone.
        if (S[i] ~ /CURVE_ALLOW_ANY/ || S[i] ~ /"CURVE"[ \t]*,[ \t]*"\*"/)
            report(i, "CURVE_ALLOW_ANY: any client key would be accepted")
    }

    # 1b. Every dp_statement_t table's SQL is constant.
    for (i = 1; i <= NR; i++) {
        if (S[i] !~ /dp_statement_t[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\[[^]]*\][ \t]*=/) continue
        buf = substr(S[i], index(S[i], "=") + 1); k = i
        while (index(buf, "{") == 0 && k < NR) { k++; buf = buf "\n" S[k] }
        buf = "(" substr(buf, index(buf, "{") + 1)
        while ((n = parse_args(buf)) < 0 && k < NR) { k++; buf = buf "\n" S[k] }
        if (n < 0) { report(i, "cannot read the dp_statement_t table"); continue }
        for (e = 1; e <= n; e++) ENTRY[e] = ARGS[e]
        entries = n
        for (e = 1; e <= entries; e++) {
            entry = ENTRY[e]
            if (entry == "") continue
            sub(/^\[[^]]*\][ \t\n]*=[ \t\n]*/, "", entry)
            if (substr(entry, 1, 1) != "{") { report(i, "a dp_statement_t entry is not { name, sql, count }"); continue }
            m = parse_args("(" substr(entry, 2))
            if (m < 2 || !is_constant(ARGS[1]) || !is_constant(ARGS[2]))
                report(i, "a dp_statement_t entry's name or SQL is not a constant: " substr(entry, 1, 60))
        }
    }
    exit problems > 0
}
AWK

# Checks services/ and deploy/ under a root; prints problems, returns 1 if any.
check_tree() {
  local root=$1 status=0
  local services="$root/services" deploy="$root/deploy"
  local -a sources
  mapfile -t sources < <(cd "$root" && find services -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
  # Macros and file-scope constant strings anywhere in services/.
  local defines constants
  defines=$(cat "${sources[@]/#/$root/}" | sed -n 's/^[ \t]*#[ \t]*define[ \t]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' | sort -u | tr '\n' ' ')
  constants=$(cat "${sources[@]/#/$root/}" | awk '
    /^(static[ \t]+)?const[ \t]+char[ \t]*\*[ \t]*const[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*("|$)/ ||
    /^static[ \t]+const[ \t]+char[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\[[ \t]*\][ \t]*=[ \t]*("|$)/ ||
    /^static[ \t]+const[ \t]+char[ \t]*\*[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*("|$)/ {
      line = $0; sub(/[ \t]*=.*/, "", line); sub(/.*[ \t\*]/, "", line); sub(/\[.*/, "", line)
      print line
    }' | sort -u | tr '\n' ' ')
  # A `static const char *` that is assigned again is not a constant.
  local name
  for name in $constants; do
    if [[ $(cat "${sources[@]/#/$root/}" | grep -cE "(^|[^A-Za-z0-9_.>])$name[ \t]*=[^=]") -gt 1 ]]; then
      constants=${constants//" $name "/" "}
      constants=${constants#"$name "}
    fi
  done
  # Bodies of one-line macros, for formats defined elsewhere.
  local bodies
  bodies=$(mktemp)
  cat "${sources[@]/#/$root/}" | sed -n 's/^[ \t]*#[ \t]*define[ \t]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\)[ \t]\{1,\}\(.*\)/\1\t\2/p' > "$bodies"
  local file
  for file in "${sources[@]}"; do
    if ! awk -v file="$file" -v defines="$defines" -v constants="$constants" \
      -v whitelist="$(echo "$WHITELIST" | tr '\n' ' ')" \
      -v bodies_file="$bodies" \
      "BEGIN { while ((getline line < bodies_file) > 0) { split(line, kv, \"\\t\"); DEFBODY[kv[1]] = substr(line, length(kv[1]) + 2) } }
       $AWK_PROGRAM" "$root/$file"; then
      status=1
    fi
  done
  rm -f "$bodies"
  # Other files of services/ (CMake, scripts) and everything in deploy/, raw.
  local hits
  hits=$( (cd "$root" && find services deploy -type f ! -name '*.c' ! -name '*.h' -print0 2>/dev/null |
    xargs -0 -r grep -n 'CURVE_ALLOW_ANY' /dev/null) || true)
  if [[ -n $hits ]]; then
    printf '%s: CURVE_ALLOW_ANY: any client key would be accepted\n' "$hits"
    status=1
  fi
  [[ -d $services ]] || { echo "no $services"; status=1; }
  [[ -d $deploy ]] || { echo "no $deploy"; status=1; }
  return $status
}

# Plants one violation of each kind (and lookalikes that are fine) in a
# scratch tree and requires exactly the planted ones to be found.
self_test() {
  local scratch
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' RETURN
  mkdir -p "$scratch/services/common" "$scratch/services/bad" "$scratch/deploy"
  cat > "$scratch/services/common/fine.c" <<'C'
#define LIST_SQL "SELECT id FROM t WHERE kind = $1"
#define COLUMNS(x) "id, " x
static const char *const s_wake = "LISTEN wake";
static const dp_statement_t s_statements[] = {
    [0] = {"list", LIST_SQL, 1},
    [1] = {"pick", "SELECT " COLUMNS("name") " FROM t", 0},
};

int fine(PGconn *conn, const char *value)
{
    PGresult *result = PQexec(conn, "BEGIN");
    result = PQexec(conn, s_wake);
    result = PQexecParams(conn, LIST_SQL, 1, NULL, &value, NULL, NULL, 0);
    result = PQprepare(conn, "pick", "SELECT " COLUMNS("name") " FROM t", 0, NULL);
    return 0;
}

/* Messages are built with snprintf away from any SQL. */
void message(char *detail, size_t size, const char *value, char *sqlstate)
{
    snprintf(detail, size, "%d rows for %s", 3, value); /* SELECT in a comment */
    snprintf(sqlstate, 6, "%s", value);
}
C
  cat > "$scratch/services/bad/bad.c" <<'C'
static char built[256];
static const dp_statement_t s_statements[] = {
    {"built", built, 0},
};

int bad(PGconn *conn, const char *name, const char *script)
{
    char sql[256];
    char text[256];
    snprintf(sql, sizeof sql, "SELECT * FROM t WHERE name = '%s'", name);
    PGresult *result = PQexec(conn, sql);
    result = PQexecParams(conn, text, 0, NULL, NULL, NULL, NULL, 0);
    strcpy(text, "DELETE FROM t");
    strcat(text, name);
    dp_db_run_script(db, script);
    zstr_sendx(auth, "CURVE", CURVE_ALLOW_ANY, NULL);
    return 0;
}
C
  printf 'zauth allow: CURVE_ALLOW_ANY\n' > "$scratch/deploy/keys-init"
  local found expected=9
  found=$(check_tree "$scratch" || true)
  local count
  count=$(printf '%s\n' "$found" | grep -c ': ' || true)
  if [[ $count -ne $expected ]] || printf '%s\n' "$found" | grep -q 'fine.c'; then
    printf 'check_static.sh self-test: expected %d findings in bad.c and deploy/, got %d:\n%s\n' \
      "$expected" "$count" "$found" >&2
    return 1
  fi
  echo "self-test: the $expected planted violations were found, the lookalikes passed"
}

self_test
if check_tree "$ROOT"; then
  echo "static checks passed: services/ and deploy/"
else
  echo "static checks FAILED (see above)" >&2
  exit 1
fi
