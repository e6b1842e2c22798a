#!/usr/bin/python3
"""The dashboard in a real browser: headless Chromium loads the page that
the dp-report executable serves over a freshly migrated and seeded
database, and must have drawn every chart.

Steps: create a database on the test cluster and migrate it with dp-migrate
(as test_support.c does: under the cluster-wide setup lock); write the
fixture as the superuser with psql; start dp-report on it as dp_report with
DP_REPORT_HTTP_PORT=0 and read the port it bound from its log; load the page
with `chromium --dump-dom` and check each chart's <svg> and its children
(one bar per year of growth, among others); take a `--screenshot` and check
that the PNG is not blank by decoding it (zlib, PNG filters) and counting
its distinct colours and the pixels painted in the bars' colour.

Standard library only. Needs DP_TEST_ADMIN_URL and DP_TEST_REPORT_URL (as
scripts/test exports them), psql and chromium: when anything is missing the
test FAILS, it never skips. Exit status 0 when every check passed, 1 otherwise.
"""

import argparse
import collections
import html.parser
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

# The fixture's figures that the page must show.
AS_OF = "2024-12-31"
PERIOD_FROM = "2024-10-01"
PERIOD_TO = "2024-12-31"
YEARS = 2024 - 2017 + 1  # by_year runs from the first wave's year to the as-of year
FORMS, AREAS = 2, 3
BACKLOG_BUCKETS = 5
CHARTS = [
    "chart-partners-by-year",
    "chart-partners-total",
    "chart-enquiries-per-period",
    "chart-response-times",
    "chart-backlog",
    "chart-areas-forms",
]
BAR_COLOUR = (0x0B, 0x4F, 0x8A)  # .bar{fill:#0b4f8a} in report_dashboard.c
WINDOW = (1400, 2400)

# The same key as s_setup_lock_key in tests/support/test_support.c: the first
# migration changes cluster-wide roles, so databases are created and migrated
# one at a time.
SETUP_LOCK_KEY = 7368100021

SEED_SQL = r"""
SET TimeZone = 'UTC';
INSERT INTO registry.area (slug, label, created_at) VALUES
  ('ai', 'Artificial intelligence', '2020-01-01'),
  ('cybercrime', 'Cybercrime', '2020-01-02'),
  ('data-protection', 'Data protection', '2020-01-03');
INSERT INTO registry.form (slug, label, created_at) VALUES
  ('event', 'Event', '2020-01-01'),
  ('project', 'Project', '2020-01-02');
WITH p AS (
  INSERT INTO registry.partner (slug, kind, joined_on, joined_precision) VALUES
    ('alpha', 'company', '2017-11-08', 'day'),
    ('beta', 'association', '2017-11-08', 'day'),
    ('gamma', 'company', '2018-06-01', 'month'),
    ('delta', 'company', '2019-01-01', 'year'),
    ('epsilon', 'association', '2021-03-15', 'day'),
    ('zeta', 'company', '2023-09-01', 'month'),
    ('eta', 'company', '2024-02-20', 'day')
  RETURNING id, slug, joined_on)
INSERT INTO registry.partner_name (partner_id, position, name, valid_from)
SELECT id, 1, initcap(slug) || ' Ltd', joined_on FROM p;
UPDATE registry.partner SET status = 'withdrawn', withdrawn_on = '2022-05-01' WHERE slug = 'gamma';
INSERT INTO registry.partner_area (partner_id, area_slug)
SELECT p.id, a.slug FROM registry.partner p, registry.area a
WHERE (p.slug, a.slug) IN (('alpha', 'ai'), ('beta', 'ai'), ('beta', 'data-protection'),
                           ('delta', 'cybercrime'), ('zeta', 'data-protection'));
INSERT INTO registry.engagement (partner_id, form_slug, area_slug, title, starts_on)
SELECT p.id, e.form, e.area, 'Engagement ' || e.n, e.starts_on::date
FROM (VALUES (1, 'alpha', 'event', 'ai', '2019-03-01'), (2, 'alpha', 'project', 'ai', '2021-05-01'),
             (3, 'beta', 'event', 'data-protection', '2022-09-01'),
             (4, 'delta', 'project', 'cybercrime', '2023-02-01'),
             (5, 'delta', 'event', 'cybercrime', '2024-04-01'),
             (6, 'zeta', 'project', 'data-protection', '2024-06-01'),
             (7, 'eta', 'event', 'ai', '2024-11-01')) AS e(n, slug, form, area, starts_on)
JOIN registry.partner p ON p.slug = e.slug;
-- 110 enquiries through the period, every 19 hours, most answered.
INSERT INTO intake.enquiry (source, idempotency_key, content_hash, sender_name, email, kind,
  subject, subject_key, body, received_at, status, partner_id, due_on, first_response_at)
SELECT CASE WHEN g % 3 = 0 THEN 'email' ELSE 'web' END, 'browser-' || g, md5(g::text),
  'Sender', 'sender@example.org',
  (ARRAY['information-request', 'media', 'cooperation-proposal', 'other'])[1 + g % 4],
  'Subject', 'subject', 'Body', r.at,
  CASE WHEN g % 10 = 0 THEN 'quarantined' WHEN g % 7 = 0 THEN 'received' ELSE 'answered' END,
  CASE WHEN g % 4 = 0 THEN (SELECT id FROM registry.partner WHERE slug = 'alpha') END,
  r.at::date + 10,
  CASE WHEN g % 10 <> 0 AND g % 7 <> 0 THEN r.at + (1 + g % 9) * interval '3 hours' END
FROM generate_series(1, 110) g,
     LATERAL (SELECT timestamptz '2024-10-01 08:00+00' + g * interval '19 hours' AS at) r;
-- The open backlog, relative to now.
INSERT INTO intake.enquiry (source, idempotency_key, content_hash, sender_name, email, kind,
  subject, subject_key, body, received_at, status, due_on)
SELECT 'web', 'backlog-' || d, md5('b' || d), 'Sender', 'sender@example.org', 'other',
  'Subject', 'subject', 'Body', now() - d * interval '1 day', 'received', current_date - d + 10
FROM unnest(ARRAY[1, 2, 4, 5, 6, 12, 20, 40, 60, 100]) d;
"""


class Failure(Exception):
    """A check that did not hold."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def require_env(name):
    value = os.environ.get(name, "")
    if not value:
        raise Failure(
            f"the environment variable {name} is not set: run through scripts/test, or export "
            "the DP_TEST_* variables for a cluster yourself (tests/README.md)"
        )
    return value


def url_with_dbname(url, dbname):
    """The postgresql:// URL with its database replaced."""
    parts = urllib.parse.urlsplit(url)
    check(parts.scheme in ("postgresql", "postgres"), f"not a postgresql:// URL: {url}")
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(dbname)))


def run(argv, timeout, env=None, stdin_text=None):
    """Runs a program to completion; fails with its output unless it exits 0."""
    try:
        done = subprocess.run(argv, input=stdin_text, capture_output=True, text=True,
                              timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as error:
        raise Failure(f"{argv[0]} did not finish within {timeout} s") from error
    check(done.returncode == 0,
          f"{' '.join(argv[:2])} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


class Database:
    """A database of its own on the test cluster, created and migrated under the
    cluster-wide setup lock, dropped at the end."""

    def __init__(self, admin_url, report_url, migrate, work, label="report_browser"):
        self.name = f"dpt_{label}_{os.getpid()}_{int(time.time() * 1000) & 0xFFFFFF:x}"
        self.cluster_url = admin_url
        self.admin_url = url_with_dbname(admin_url, self.name)
        self.report_url = url_with_dbname(report_url, self.name)
        self.created = True  # from here on, drop() is needed whatever happens
        # One psql session holds the setup lock while it creates the database
        # and runs dp-migrate (through \!); dp-migrate's status and output go
        # to files, since psql does not pass a shell command's status on.
        status_file = os.path.join(work, "migrate.status")
        log_file = os.path.join(work, "migrate.log")
        migrate_command = (f"DP_DATABASE_URL={shlex.quote(self.admin_url)} "
                           f"{shlex.quote(migrate)} up >{shlex.quote(log_file)} 2>&1; "
                           f"echo $? >{shlex.quote(status_file)}")
        script = (f"SELECT pg_advisory_lock({SETUP_LOCK_KEY});\n"
                  f"CREATE DATABASE \"{self.name}\";\n"
                  f"\\! {migrate_command}\n"
                  f"SELECT pg_advisory_unlock({SETUP_LOCK_KEY});\n")
        try:
            run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", admin_url,
                 "-f", "-"], 180, stdin_text=script)
            with open(status_file, encoding="utf-8") as status:
                code = status.read().strip()
            with open(log_file, encoding="utf-8", errors="replace") as log:
                check(code == "0", f"dp-migrate up exited {code}:\n{log.read()}")
        except (Failure, OSError) as error:
            self.drop()
            raise Failure(f"cannot make the test database {self.name}: {error}") from error

    def seed(self, sql):
        run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.admin_url, "-f", "-"], 60,
            stdin_text=sql)

    def drop(self):
        if self.created:
            run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.cluster_url, "-c",
                 f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'], 60)
            self.created = False


class ReportService:
    """The dp-report executable on a free port, its log in a file."""

    def __init__(self, program, database_url, log_path):
        self.log_path = log_path
        env = dict(os.environ, DP_DATABASE_URL=database_url,
                   DP_REPORT_ENDPOINT="tcp://127.0.0.1:*", DP_REPORT_HTTP_PORT="0",
                   DP_LOG_LEVEL="info")
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen([program], env=env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT)
        self.port = self._bound_port(timeout=30)

    def _bound_port(self, timeout):
        """Polls the log (bounded) for the line that names the dashboard's port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                found = re.search(r"dashboard on http://127\.0\.0\.1:(\d+)/", log.read())
            if found:
                return int(found.group(1))
            check(self.process.poll() is None,
                  f"dp-report exited {self.process.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise Failure(f"dp-report did not report its HTTP port within {timeout} s:\n{self.log()}")

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
                raise Failure("dp-report did not stop within 15 s of SIGTERM")


def http_get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def wait_healthy(base_url, timeout=30):
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, _, body = http_get(base_url + "/health", timeout=5)
            if status == 200:
                return
            last = f"{status} {body!r}"
        except (urllib.error.URLError, ConnectionError) as error:
            last = str(error)
        time.sleep(0.1)
    raise Failure(f"dp-report's /health did not answer 200 within {timeout} s: {last}")


def chromium(browser, profile, args, timeout=120):
    """Runs headless Chromium once; returns its stdout. Kills its whole process
    group (the browser and the helpers it started) when it overruns."""
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}"] + args
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as error:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise Failure(f"chromium did not finish within {timeout} s") from error
    check(process.returncode == 0,
          f"chromium exited {process.returncode}:\n{err.decode(errors='replace')[-3000:]}")
    return out.decode("utf-8", errors="replace")


class ChartCensus(html.parser.HTMLParser):
    """Counts, per <svg id=...>, its descendant elements by tag, its "no data"
    placeholders, and the ids of the tables."""

    def __init__(self):
        super().__init__()
        self.charts = {}
        self.tables = set()
        self._open = None  # the id of the <svg> being read
        self._in_empty = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "svg" and self._open is None:
            self._open = attributes.get("id", "")
            self.charts[self._open] = collections.Counter()
        elif self._open is not None:
            self.charts[self._open][tag] += 1
            if tag == "text" and "empty" in attributes.get("class", "").split():
                self.charts[self._open]["empty"] += 1
        if tag == "table" and attributes.get("id"):
            self.tables.add(attributes["id"])

    def handle_endtag(self, tag):
        if tag == "svg":
            self._open = None


def check_dom(dom):
    census = ChartCensus()
    census.feed(dom)
    for chart in CHARTS:
        check(chart in census.charts, f"the page has no <svg id=\"{chart}\"> (found "
              f"{sorted(census.charts)})")
        check(census.charts[chart]["empty"] == 0, f"{chart} shows the 'no data' placeholder")
    counts = {chart: census.charts[chart] for chart in CHARTS}
    expected = {
        "chart-partners-by-year": ("rect", YEARS),
        "chart-partners-total": ("rect", YEARS),
        "chart-enquiries-per-period": ("polyline", 2),
        "chart-response-times": ("polyline", 2),
        "chart-backlog": ("rect", BACKLOG_BUCKETS),
        "chart-areas-forms": ("rect", FORMS * AREAS),
    }
    for chart, (tag, number) in expected.items():
        check(counts[chart][tag] == number,
              f"{chart}: expected {number} <{tag}> children, found {counts[chart][tag]}")
    # Tables are "table-<name>", or "table-<report>-<name>" should the ids carry the report.
    for name in ("by_kind", "by_wave", "by_status", "areas", "partners_by_area"):
        check(any(table == f"table-{name}" or (table.startswith("table-")
                                               and table.endswith(f"-{name}"))
                  for table in census.tables),
              f"the page has no table {name} (tables: {sorted(census.tables)})")
    return counts


def png_pixels(data):
    """Decodes an 8-bit RGB or RGBA PNG: (width, height, channels, rows of bytes)."""
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG")
    position, idat, header = 8, [], None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        position += 12 + length
    check(header is not None and idat, "the PNG has no IHDR or no IDAT")
    width, height, depth, colour_type, _, _, interlace = header
    check(depth == 8 and colour_type in (2, 6) and interlace == 0,
          f"unexpected PNG format: depth {depth}, colour type {colour_type}, interlace {interlace}")
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    check(len(raw) == height * (stride + 1), "the PNG's image data has the wrong size")
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        else:
            check(kind == 0, f"unknown PNG filter {kind} in row {y}")
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def check_screenshot(path):
    with open(path, "rb") as png:
        width, height, channels, rows = png_pixels(png.read())
    check((width, height) == WINDOW, f"the screenshot is {width}x{height}, not {WINDOW}")
    colours = collections.Counter()
    for row in rows:
        colours.update(zip(row[0::channels], row[1::channels], row[2::channels]))
    pixels = width * height
    commonest, commonest_count = colours.most_common(1)[0]
    bar_pixels = colours.get(BAR_COLOUR, 0)
    summary = (f"{len(colours)} distinct colours, commonest {commonest} on "
               f"{100 * commonest_count / pixels:.1f}% of the pixels, {bar_pixels} pixels in the "
               f"bars' colour")
    # A blank page is one colour; a line of text gives some 80 anti-aliased shades; the
    # dashboard's charts and tables give a couple of thousand.
    check(len(colours) >= 300, "the screenshot looks blank: " + summary)
    check(commonest_count < 0.97 * pixels, "the screenshot is nearly one colour: " + summary)
    # The bars are solid rectangles of that colour: at least a few thousand pixels of them.
    check(bar_pixels >= 2000, "the bar charts were not painted: " + summary)
    return summary


def run_checks(options, work, stack):
    """Every step; `stack` collects what must be stopped afterwards."""
    browser = shutil.which("chromium")
    check(browser, "chromium is not installed (Debian: apt-get install chromium; it is "
          "listed in scripts/packages.txt)")
    check(shutil.which("psql"), "psql is not installed (postgresql-client-15)")
    for program in (options.dp_report, options.dp_migrate):
        check(os.access(program, os.X_OK), f"{program} is not an executable")
    admin_url = require_env("DP_TEST_ADMIN_URL")
    report_url = require_env("DP_TEST_REPORT_URL")

    stack["database"] = database = Database(admin_url, report_url, options.dp_migrate, work)
    database.seed(SEED_SQL)
    stack["service"] = service = ReportService(options.dp_report, database.report_url,
                                               os.path.join(work, "dp-report.log"))
    base = f"http://127.0.0.1:{service.port}"
    wait_healthy(base)
    page = f"{base}/?as_of={AS_OF}&period_from={PERIOD_FROM}&period_to={PERIOD_TO}"

    # The same page over plain HTTP, and the growth figures it should draw.
    status, content_type, _ = http_get(page)
    check(status == 200 and content_type.startswith("text/html"),
          f"GET / answered {status} {content_type}")
    _, _, overview = http_get(f"{base}/reports/overview.csv?as_of={AS_OF}&table=by_year")
    years = len(overview.decode().strip().split("\r\n")) - 1
    check(years == YEARS, f"by_year has {years} rows, expected {YEARS}")

    dom = chromium(browser, os.path.join(work, "profile-dom"), ["--dump-dom", page])
    counts = check_dom(dom)
    print("DOM: " + ", ".join(f"{chart} {dict(counts[chart])}" for chart in CHARTS))

    screenshot = os.path.abspath(options.screenshot)
    if os.path.exists(screenshot):
        os.remove(screenshot)
    chromium(browser, os.path.join(work, "profile-shot"),
             [f"--screenshot={screenshot}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
              "--hide-scrollbars", page])
    check(os.path.exists(screenshot), "chromium wrote no screenshot")
    print(f"screenshot {screenshot}: " + check_screenshot(screenshot))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dp-report", required=True, help="the dp-report executable")
    parser.add_argument("--dp-migrate", required=True, help="the dp-migrate executable")
    parser.add_argument("--screenshot", default="report_browser_dashboard.png",
                        help="where to keep the PNG (default: in the current folder)")
    options = parser.parse_args()

    status = 0
    stack = {}
    work = tempfile.mkdtemp(prefix="dp-report-browser-")
    try:
        run_checks(options, work, stack)
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        if "service" in stack:
            print("--- dp-report log ---\n" + stack["service"].log(), file=sys.stderr)
        status = 1
    # Stopped and dropped whatever happened; a failure to clean up fails the test too.
    for what in ("service", "database"):
        try:
            if what == "service" and what in stack:
                stack[what].stop()
            elif what == "database" and what in stack:
                stack[what].drop()
        except Failure as failure:
            print(f"FAIL while cleaning up: {failure}", file=sys.stderr)
            status = 1
    shutil.rmtree(work, ignore_errors=True)
    if status == 0:
        print("PASS: the dashboard is drawn in headless Chromium")
    return status


if __name__ == "__main__":
    sys.exit(main())
