#!/usr/bin/python3
"""The staff console in a real browser: Selenium drives headless Chromium
(through chromedriver) against dp-console and the four services, all run as
executables from the build folder over a database of their own.

The stack: a database made and migrated as test_dashboard.py does; a CURVE
key folder made with `dpctl keys` (the console holds a `frontend` key named
"console", so the services record "<person> via console"); dp-registry,
dp-notify, dp-intake, dp-report and two dp-console (the second with an idle
time-out of a few seconds) on free loopback ports; staff accounts made with
`dpctl staff add --password-stdin`; the seed partners (`dpctl seed`) and
enquiries submitted with `dpctl enquiry submit`, their received_at chosen so
that two are due today and two overdue (the due date is the received date
plus DP_INTAKE_RESPONSE_DAYS).

Scenarios, one function each: login, lockout, queue filters and search, the
day's work on one enquiry (assign, note, due date, reply, close, reopen, and
the history naming the person), admitting an applicant as a partner, CSRF
refusal, session expiry, logout, keyboard only. Every page the browser lands
on gets axe-core (no violation of impact serious or critical) and, once per
page, screenshots at 1400 and 400 px wide (kept under
<build>/Testing/artifacts/console/) and the check that nothing scrolls
sideways at 400 px.

Needs the DP_TEST_* variables that scripts/test exports, chromium,
chromedriver, python3-selenium and axe.min.js (scripts/fetch-axe): when
anything is missing the test FAILS, it never skips. Every process it starts
is stopped by its pid at the end, whatever happened. Exit 0 when every
scenario passed, 1 otherwise.
"""

import argparse
import base64
import ctypes
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import zoneinfo

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from test_dashboard import Database, Failure, check, require_env, run, url_with_dbname  # noqa: E402

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoSuchElementException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    SELENIUM_MISSING = None
except ImportError as missing:  # reported as a failure, never a skip
    SELENIUM_MISSING = missing

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WIDE = (1400, 900)
NARROW = (400, 900)
IDLE_TIMEOUT_S = 3        # the second console's idle time-out
RESPONSE_DAYS = 5         # DP_INTAKE_RESPONSE_DAYS: due = received date + this
RUN_DEADLINE_S = 210      # the whole run; ctest's TIMEOUT is 240
PRIVACY_KEY = "console-browser-test-privacy-key-5d1f0c2e9a"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SERIOUS = ("serious", "critical")

# login: (name, role, password)
STAFF = {
    "ana": ("Ana Lopes", "agent", "ana-correct-horse-42"),
    "bruno": ("Bruno Martin", "admin", "bruno-battery-staple-42"),
    "lou": ("Lou Bernard", "agent", "lou-locked-out-later-42"),
    "kim": ("Kim Weber", "agent", "kim-keyboard-only-42"),
}

# key: (days before today when received, kind, subject, body, sender, e-mail, organisation)
ENQUIRIES = {
    "today-1": (RESPONSE_DAYS, "information-request",
                "Workshop on artificial intelligence in schools",
                "Could your team tell us what the partnership has published on hydroponics "
                "and on teaching with artificial intelligence?", "Marta Silva",
                "marta.silva@school.example.org", "Escola Norte"),
    "today-2": (RESPONSE_DAYS, "media", "Interview request for a radio programme",
                "We would like to interview someone about the partnership next week.",
                "Jonas Berg", "jonas.berg@radio.example.net", "Radio Nord"),
    "late-1": (RESPONSE_DAYS + 7, "information-request",
               "Data protection guidance for municipalities",
               "Is there guidance for small municipalities on data protection impact assessments?",
               "Irena Novak", "irena.novak@city.example.com", "City of Example"),
    "late-2": (RESPONSE_DAYS + 4, "other", "Question about the annual conference",
               "When will the programme of the annual conference be published?",
               "Paul Durand", "paul.durand@mail.example.fr", ""),
    "fresh": (0, "cooperation-proposal", "Joint training on cybercrime",
              "We propose a joint training course on cybercrime investigations.",
              "Sara Costa", "sara.costa@training.example.it", "Training Lab"),
    "applicant": (1, "membership-application", "Application to join the Digital Partnership",
                  "Acme Robotics would like to join the Digital Partnership. We build robots "
                  "for hospitals and work on safe artificial intelligence.",
                  "Nora Acme", "nora@acme-robotics.example", "Acme Robotics"),
}
APPLICANT = {"name": "Acme Robotics", "slug": "acme-robotics", "kind": "company",
             "domains": "acme-robotics.example", "joined_precision": "day"}
SEARCH_WORD = "hydroponics"  # only in today-1's body


def die_with_parent():
    """In the child before exec: SIGKILL when this test process dies, so that a
    killed test (ctest's time-out) leaves nothing running."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def paris_today():
    return datetime.datetime.now(PARIS).date()


def received_at(days_before):
    """An RFC 3339 time whose UTC date is days_before Paris's today (noon UTC),
    or a minute ago for 0, so the intake sets due_on = that date + RESPONSE_DAYS."""
    if days_before == 0:
        moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    else:
        day = paris_today() - datetime.timedelta(days=days_before)
        moment = datetime.datetime(day.year, day.month, day.day, 12, tzinfo=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def field(record, name):
    """A field of dpctl's JSON by its proto name, in snake_case or lowerCamelCase."""
    if name in record:
        return record[name]
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
    return record.get(camel)


def status_name(value):
    """'ENQUIRY_STATUS_CLOSED', 'closed' or 5 -> 'closed'."""
    names = ["unspecified", "received", "triaged", "assigned", "answered", "closed", "rejected",
             "quarantined"]
    if isinstance(value, int):
        return names[value] if 0 <= value < len(names) else str(value)
    return str(value or "").lower().replace("enquiry_status_", "")


class Process:
    """One executable of the build, its output in a log file, stopped by its pid."""

    def __init__(self, name, argv, env, log_dir):
        self.name = name
        self.log_path = os.path.join(log_dir, f"{name}.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.pid = self.process.pid

    def alive(self):
        return self.process.poll() is None

    def log(self, lines=60):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        """SIGTERM to this pid, then SIGKILL after 10 s; fails if it would not stop."""
        if self.process.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired as error:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            raise Failure(f"{self.name} (pid {self.pid}) did not stop within 10 s of SIGTERM") \
                from error


class Stack:
    """The database, the key folder and every service, started from the build folder."""

    def __init__(self, build_dir, work, artifacts):
        self.build_dir = build_dir
        self.work = work
        self.log_dir = os.path.join(artifacts, "logs")
        os.makedirs(self.log_dir, exist_ok=True)
        self.processes = []
        self.database = None
        self.curve = True  # False: development mode, no key folder
        self.keys = os.path.join(work, "keys")
        self.binary = {name: os.path.join(build_dir, "services", folder, name) for name, folder in (
            ("dp-migrate", "migrate"), ("dp-registry", "registry"), ("dp-notify", "notify"),
            ("dp-intake", "intake"), ("dp-report", "report"), ("dp-console", "console"),
            ("dpctl", "dpctl"))}
        missing = [path for path in self.binary.values() if not os.access(path, os.X_OK)]
        check(not missing, "not built: " + ", ".join(missing))
        self.ports = {name: free_port() for name in (
            "registry", "notify", "notify_pub", "intake", "report", "console", "console_http",
            "console2", "console2_http")}
        self.endpoints = {
            "DP_REGISTRY_ENDPOINT": f"tcp://127.0.0.1:{self.ports['registry']}",
            "DP_NOTIFY_ENDPOINT": f"tcp://127.0.0.1:{self.ports['notify']}",
            "DP_NOTIFY_PUB_ENDPOINT": f"tcp://127.0.0.1:{self.ports['notify_pub']}",
            "DP_INTAKE_ENDPOINT": f"tcp://127.0.0.1:{self.ports['intake']}",
            "DP_REPORT_ENDPOINT": f"tcp://127.0.0.1:{self.ports['report']}",
            "DP_CONSOLE_ENDPOINT": f"tcp://127.0.0.1:{self.ports['console']}",
        }
        self.base = f"http://127.0.0.1:{self.ports['console_http']}"
        self.base2 = f"http://127.0.0.1:{self.ports['console2_http']}"

    # -- the environment ---------------------------------------------------------------

    def env(self, extra=None):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("DP_CURVE", "DP_CONSOLE", "DP_METRICS"))}
        env.update(self.endpoints)
        env.update(DP_METRICS_PORT="-1", DP_LOG_LEVEL="info", DP_PRIVACY_KEY=PRIVACY_KEY, TZ="UTC")
        env.update(extra or {})
        if self.curve:
            env["DP_CURVE_DIR"] = self.keys
        else:
            env.pop("DP_CURVE_CLIENT_CERT", None)
        return env

    def dpctl(self, *args, stdin_text=None, timeout=30):
        env = self.env({"DP_CURVE_CLIENT_CERT": os.path.join(self.keys, "private",
                                                              "operator.key_secret"),
                        "DP_TIMEOUT_MS": "5000", "DP_ATTEMPTS": "2"})
        return run([self.binary["dpctl"], *args], timeout, env=env, stdin_text=stdin_text)

    def dpctl_json(self, *args, stdin_text=None):
        out = self.dpctl("--json", *args, stdin_text=stdin_text)
        try:
            return json.loads(out)
        except ValueError as error:
            raise Failure(f"dpctl {' '.join(args[:2])} printed no JSON: {out[:500]}") from error

    # -- starting ------------------------------------------------------------------------

    def make_keys(self):
        dpctl = self.binary["dpctl"]
        env = self.env()
        for service in ("registry", "intake", "notify", "report", "console"):
            run([dpctl, "keys", "new-service", service, "--dir", self.keys], 30, env=env)
        for client, role in (("console", "frontend"), ("intake-svc", "service"),
                             ("operator", "staff")):
            run([dpctl, "keys", "new", client, "--role", role, "--dir", self.keys], 30, env=env)

    def start(self, name, binary, role_url, extra, ready_port=None, health=None):
        env = self.env(dict(extra, DP_DATABASE_URL=role_url))
        process = Process(name, [self.binary[binary]], env, self.log_dir)
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            check(process.alive(), f"{name} exited {process.process.returncode} at start:\n"
                  + process.log())
            if health and http_status(health + "/health") == 200:
                return process
            if not health and port_open(ready_port):
                return process
            time.sleep(0.1)
        raise Failure(f"{name} was not ready within 30 s:\n{process.log()}")

    def start_all(self, admin_url):
        migrate = self.binary["dp-migrate"]
        self.database = Database(admin_url, require_env("DP_TEST_REPORT_URL"), migrate, self.work,
                                 label="console_browser")
        name = self.database.name

        def role_url(variable, role):
            base = os.environ.get(variable) or re.sub(
                r"//[^@/]*@", f"//{role}@", require_env("DP_TEST_REGISTRY_URL"), count=1)
            return url_with_dbname(base, name)

        if self.curve:
            self.make_keys()
        private = os.path.join(self.keys, "private")
        self.start("registry", "dp-registry", role_url("DP_TEST_REGISTRY_URL", "dp_registry"), {},
                   ready_port=self.ports["registry"])
        self.start("notify", "dp-notify", role_url("DP_TEST_NOTIFY_URL", "dp_notify"), {},
                   ready_port=self.ports["notify"])
        self.start("intake", "dp-intake", role_url("DP_TEST_INTAKE_URL", "dp_intake"),
                   {"DP_CURVE_CLIENT_CERT": os.path.join(private, "intake-svc.key_secret"),
                    "DP_INTAKE_RESPONSE_DAYS": str(RESPONSE_DAYS)},
                   ready_port=self.ports["intake"])
        self.start("report", "dp-report", role_url("DP_TEST_REPORT_URL", "dp_report"),
                   {"DP_REPORT_HTTP_PORT": "0"}, ready_port=self.ports["report"])
        console_url = role_url("DP_TEST_CONSOLE_URL", "dp_console")
        for which, idle in (("console", None), ("console2", IDLE_TIMEOUT_S)):
            extra = {"DP_CURVE_CLIENT_CERT": os.path.join(private, "console.key_secret"),
                     "DP_CONSOLE_ENDPOINT": f"tcp://127.0.0.1:{self.ports[which]}",
                     "DP_CONSOLE_HTTP_ADDRESS": "127.0.0.1",
                     "DP_CONSOLE_HTTP_PORT": str(self.ports[which + "_http"])}
            if idle:
                extra["DP_CONSOLE_IDLE_TIMEOUT_S"] = str(idle)
            self.start("dp-" + which, "dp-console", console_url, extra,
                       health=f"http://127.0.0.1:{self.ports[which + '_http']}")

    def seed(self):
        """Staff accounts, the seed partners and the enquiries; returns {key: id}."""
        for login, (name, role, password) in STAFF.items():
            self.dpctl("staff", "add", login, "--name", name, "--role", role, "--password-stdin",
                       stdin_text=password + "\n")
        self.dpctl("seed", os.environ.get("DP_SEED_DIR") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..", "db", "seed"))
        ids = {}
        for key, (days, kind, subject, body, sender, email, organisation) in ENQUIRIES.items():
            submission = {"source": "website", "idempotency_key": f"browser-{key}",
                          "sender_name": sender, "email": email, "organisation": organisation,
                          "kind": kind, "subject": subject, "body": body, "language": "en",
                          "received_at": received_at(days)}
            reply = self.dpctl_json("enquiry", "submit", stdin_text=json.dumps(submission))
            ids[key] = int(field(reply, "enquiry_id") or 0)
            check(ids[key] > 0, f"enquiry {key} got no id: {reply}")
        # One assigned already, for the status filter (by the operator's key).
        self.dpctl("enquiry", "assign", str(ids["late-1"]), STAFF["bruno"][0])
        return ids

    def enquiry(self, enquiry_id):
        reply = self.dpctl_json("enquiry", "show", str(enquiry_id))
        return reply.get("enquiry", reply)

    def stop_all(self):
        """Stops every process it started, newest first, by its pid; then drops
        the database. Raises the first problem after trying everything."""
        problems = []
        for process in reversed(self.processes):
            try:
                process.stop()
            except (Failure, OSError, subprocess.SubprocessError) as error:
                problems.append(str(error))
        self.processes = []
        if self.database:
            try:
                self.database.drop()
            except Failure:
                # Once more: a test that restarts the shared cluster may have
                # cut the connection.
                time.sleep(3)
                try:
                    self.database.drop()
                except Failure as error:
                    problems.append(str(error))
            self.database = None
        check(not problems, "; ".join(problems))

    def logs(self):
        return "".join(f"--- {process.name} (pid {process.pid}) log, last lines ---\n"
                       f"{process.log()}" for process in self.processes)


# -- HTTP outside the browser ---------------------------------------------------------------

def http_request(url, method="GET", body=None, cookie=None, timeout=15):
    """One request without following redirects: (status, headers, body text)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {}
    if cookie:
        headers["Cookie"] = cookie
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body, doseq=True).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        path = parts.path + ("?" + parts.query if parts.query else "")
        connection.request(method, path or "/", body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def http_status(url):
    try:
        return http_request(url, timeout=2)[0]
    except OSError:
        return 0


# -- the browser ----------------------------------------------------------------------------

PAGE_NAMES = [
    (r"^/login", "login"), (r"^/queue", "queue"), (r"^/enquiries/\d+", "enquiry"),
    (r"^/partners/[^/]+", "partner"), (r"^/partners", "partners"),
    (r"^/admin/staff", "admin-staff"), (r"^/admin/events", "admin-events"),
]


class Browser:
    """Headless Chromium through chromedriver. Every page it lands on goes
    through landed(): axe-core, and once per page its screenshots and the
    sideways-scroll check at 400 px."""

    def __init__(self, work, artifacts, axe_path):
        for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
            check(os.access(path, os.X_OK), f"{path} is missing: install {package} "
                  "(scripts/install-deps does)")
        check(SELENIUM_MISSING is None, f"selenium is missing ({SELENIUM_MISSING}): install "
              "python3-selenium (scripts/install-deps does)")
        check(os.path.isfile(axe_path), f"{axe_path} is missing: run scripts/fetch-axe "
              "(scripts/test does)")
        with open(axe_path, encoding="utf-8") as axe:
            self.axe_source = axe.read()
        self.artifacts = artifacts
        self.problems = []      # accessibility and layout problems, page by page
        self.captured = set()   # pages already photographed
        self.checked = set()    # (address, page) checked with axe-core
        self.landings = 0       # pages landed on
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-background-networking", "--disable-sync",
                         "--disable-component-update", "--disable-extensions", "--hide-scrollbars",
                         "--force-device-scale-factor=1", "--lang=en-GB",
                         f"--window-size={WIDE[0]},{WIDE[1]}",
                         f"--user-data-dir={os.path.join(work, 'chromium-profile')}"):
            options.add_argument(argument)
        service = Service(CHROMEDRIVER,
                          log_path=os.path.join(artifacts, "logs", "chromedriver.log"),
                          popen_kw={"preexec_fn": die_with_parent})
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(60)
        # axe-core goes into every document as it is made (parsed by the browser
        # itself, much cheaper than sending it with each execute_script).
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                    {"source": self.axe_source})

    def quit(self):
        self.driver.quit()

    # -- finding things ----------------------------------------------------------------

    def one(self, css, within=None):
        found = (within or self.driver).find_elements(By.CSS_SELECTOR, css)
        check(found, f"no {css} on {self.path()} (docs/console.md names it); page text:\n"
              + self.text()[:1500])
        return found[0]

    def all(self, css, within=None):
        return (within or self.driver).find_elements(By.CSS_SELECTOR, css)

    def path(self):
        return urllib.parse.urlsplit(self.driver.current_url).path

    def text(self, css="body"):
        found = self.all(css)
        return found[0].text if found else ""

    def flash(self):
        """(role, text) of #flash, or (None, '')."""
        found = self.all("#flash")
        if not found:
            return None, ""
        return found[0].get_attribute("role"), found[0].text

    def expect_flash(self, what):
        role, text = self.flash()
        check(text.strip(), f"{what}: no message in #flash on {self.path()}; page text:\n"
              + self.text()[:800])
        check(role != "alert", f"{what}: #flash is an error (role=alert): {text}")
        return text

    # -- moving around -------------------------------------------------------------------

    def get(self, url, name=None):
        self.driver.get(url)
        self.landed(name)

    def submit(self, button, name=None):
        """Clicks a submit button and waits for the next page."""
        self.next_page(button.click, name)

    def next_page(self, action, name=None):
        """Runs action (a click, a key) and waits until another document has
        loaded: the current one is marked first, and the mark is gone from the
        next. (Waiting for a stale element instead meets errors of the
        browser's own while the document changes.)"""
        self.driver.execute_script("window.dpLeftPage = true;")
        action()
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.driver.execute_script(
                        "return window.dpLeftPage !== true && document.readyState === 'complete'"):
                    break
            except WebDriverException:
                pass  # the document is being replaced
            check(time.monotonic() < deadline, f"no new page within 20 s on {self.path()}")
            time.sleep(0.05)
        self.landed(name)

    def submit_form(self, form, name=None):
        buttons = self.all("button[type=submit], button:not([type]), input[type=submit]", form)
        check(buttons, f"form {form.get_attribute('id')} has no submit button")
        self.submit(buttons[0], name)

    def fill(self, form, name, value):
        found = self.all(f"[name='{name}']", form)
        check(found, f"form #{form.get_attribute('id')} on {self.path()} has no field {name}")
        element = found[0]
        kind = (element.get_attribute("type") or "").lower()
        if element.tag_name == "select":
            try:
                Select(element).select_by_value(value)
            except NoSuchElementException:
                Select(element).select_by_visible_text(value)
        elif kind in ("date", "hidden", "datetime-local"):
            self.driver.execute_script("arguments[0].value = arguments[1]", element, value)
        else:
            element.clear()
            element.send_keys(value)

    def send_form(self, css, fields, name):
        """Fills the form's fields, submits it and expects a message in #flash."""
        form = self.one(css)
        for field_name, value in fields.items():
            self.fill(form, field_name, value)
        self.submit_form(form, name)
        self.expect_flash(f"{css} ({', '.join(fields)})")

    def login(self, base, login, password, name="queue"):
        self.driver.delete_all_cookies()
        self.get(base + "/login")
        self.send_login(login, password, name)

    def send_login(self, login, password, name):
        """Fills and submits the login form of the page shown."""
        form = self.one("form#login-form")
        # The form's token must still be the one in the dp_login cookie, or the
        # console refuses the form whatever the password.
        token = self.all("input[name=csrf]", form)
        cookie = self.driver.get_cookie("dp_login")
        check(not (token and cookie) or token[0].get_attribute("value") == cookie["value"],
              "the login form's csrf field no longer matches the dp_login cookie before it is "
              "sent: a request the browser made by itself after the page (such as "
              "/favicon.ico, answered with a redirect to /login) got a new dp_login cookie")
        self.fill(form, "login", login)
        self.fill(form, "password", password)
        self.submit_form(form, name)

    def cookie(self):
        """The session cookie as a Cookie header, or None."""
        found = self.driver.get_cookie("dp_session")
        return f"dp_session={found['value']}" if found else None

    # -- every page ----------------------------------------------------------------------

    def landed(self, name=None):
        path = self.path()
        if name is None:
            name = next((label for pattern, label in PAGE_NAMES if re.search(pattern, path)),
                        path.strip("/").replace("/", "-") or "root")
        self.landings += 1
        # A page is checked once per address and state (the same form refused
        # twice is one page).
        if (self.driver.current_url, name) in self.checked:
            return
        self.checked.add((self.driver.current_url, name))
        # What docs/console.md says every page has.
        if len(self.all("h1")) != 1:
            self.problems.append(f"{path} [{name}]: {len(self.all('h1'))} <h1> elements, not one")
        if not self.all("a[href='#main']") or not self.all("#main"):
            self.problems.append(f"{path} [{name}]: no skip link to #main")
        if path != "/login" and not self.all("#count-overdue"):
            self.problems.append(f"{path} [{name}]: no #count-overdue")
        for violation in self.axe():
            nodes = "; ".join(" ".join(node.get("target", [])) + " " + node.get("html", "")[:120]
                              for node in violation.get("nodes", [])[:5])
            self.problems.append(f"{path} [{name}]: axe {violation.get('id')} "
                                 f"({violation.get('impact')}): {violation.get('help')}: {nodes}")
        if name not in self.captured:
            self.captured.add(name)
            self.screenshot(name, WIDE)
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": NARROW[0], "height": NARROW[1], "deviceScaleFactor": 1, "mobile": False})
            try:
                widths = self.driver.execute_script(
                    "return [document.documentElement.scrollWidth, window.innerWidth]")
                if widths[1] != NARROW[0]:
                    self.problems.append(f"{path} [{name}]: the window is {widths[1]} px wide, "
                                         f"not {NARROW[0]}")
                elif widths[0] > widths[1]:
                    self.problems.append(f"{path} [{name}]: at {NARROW[0]} px the page scrolls "
                                         f"sideways (scrollWidth {widths[0]})")
                self.screenshot(name, NARROW)
            finally:
                self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def axe(self):
        """axe-core on the page: its violations of impact serious or critical."""
        if not self.driver.execute_script("return typeof window.axe === 'object'"):
            self.driver.execute_script(self.axe_source)
        result = self.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations']})
              .then(r => done({violations: r.violations.map(v => ({
                  id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html}))}))}))
              .catch(e => done({error: String(e)}));""")
        check(result and "error" not in result,
              f"axe-core failed on {self.path()}: {result and result.get('error')}")
        return [v for v in result["violations"] if v.get("impact") in SERIOUS]

    def screenshot(self, name, size):
        """The whole page (not only the window), size[0] CSS pixels wide."""
        path = os.path.join(self.artifacts, f"{name}-{size[0]}.png")
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        content = metrics.get("cssContentSize") or metrics["contentSize"]
        height = max(size[1], min(int(content["height"]), 8000))
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": height, "scale": 1}})
        with open(path, "wb") as out:
            out.write(base64.b64decode(shot["data"]))

    def keep_failure(self, scenario):
        try:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            self.driver.save_screenshot(os.path.join(self.artifacts, f"FAILED-{scenario}.png"))
        except Exception:  # pylint: disable=broad-except
            pass

    # -- the keyboard --------------------------------------------------------------------

    def focused_matches(self, css):
        return self.driver.execute_script(
            "const a = document.activeElement; return !!a && a.matches(arguments[0]);", css)

    def press(self, *keys):
        ActionChains(self.driver).send_keys(*keys).perform()

    def tab_to(self, css, limit=150):
        """Presses TAB until the focused element matches css; the presses it took."""
        for presses in range(1, limit + 1):
            self.press(Keys.TAB)
            if self.focused_matches(css):
                return presses
        raise Failure(f"{css} on {self.path()} was not reached with {limit} presses of TAB")

    def focus_visible(self):
        """True when the focused element draws a focus ring (an outline or a box shadow)."""
        return self.driver.execute_script("""
            const s = getComputedStyle(document.activeElement);
            return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                   || (s.boxShadow && s.boxShadow !== 'none');""")


# -- the scenarios ---------------------------------------------------------------------------

class Scenarios:
    """The checks, one method each, in the order they run; they share the stack
    (and so the enquiries' history) and one browser."""

    def __init__(self, stack, browser, ids, curve):
        self.stack = stack
        self.web = browser
        self.ids = ids
        self.curve = curve

    def actor(self, login):
        name = STAFF[login][0]
        return f"{name} via console" if self.curve else f"{name} (unauthenticated)"

    def login_as(self, login, base=None):
        name, _, password = STAFF[login]
        self.web.login(base or self.stack.base, login, password)
        check(self.web.path() != "/login", f"{login} could not log in: "
              f"{self.web.text('#login-error') or self.web.text()[:500]}")
        check(name in self.web.text("body"), f"{name} is not shown on {self.web.path()}")

    def queue_ids(self, query):
        self.web.get(self.stack.base + "/queue?" + query)
        table = self.web.one("table#queue")
        found = set()
        for link in self.web.all("a.enquiry-link", table):
            match = re.search(r"/enquiries/(\d+)$", urllib.parse.urlsplit(
                link.get_attribute("href")).path)
            check(match, f"a.enquiry-link goes to {link.get_attribute('href')}")
            found.add(int(match.group(1)))
        caption = self.web.text("table#queue caption")
        check(str(len(found)) in caption, f"/queue?{query}: the caption '{caption}' does not "
              f"give the count {len(found)}")
        return found

    def expect_queue(self, query, keys):
        wanted = {self.ids[key] for key in keys}
        found = self.queue_ids(query)
        names = {v: k for k, v in self.ids.items()}
        check(found == wanted, f"/queue?{query} lists {sorted(names.get(i, i) for i in found)}, "
              f"expected {sorted(keys)}")

    def open_from_queue(self, query, number, name):
        """Follows the enquiry's link in /queue?query, as a person clicks it."""
        web = self.web
        web.get(f"{self.stack.base}/queue?{query}")
        links = [a for a in web.all("table#queue a.enquiry-link")
                 if a.get_attribute("href").endswith(f"/enquiries/{number}")]
        check(links, f"enquiry {number} is not listed in /queue?{query}")
        web.submit(links[0], name)
        check(web.path() == f"/enquiries/{number}", f"its link went to {web.path()}")

    def history_actors(self, enquiry):
        return [(status_name(field(entry, "to_status")), field(entry, "actor"))
                for entry in field(enquiry, "history") or []]

    # 1
    def test_login(self):
        web = self.web
        web.driver.delete_all_cookies()
        web.get(self.stack.base + "/")
        check(web.path() == "/login", f"/ without a session lands on {web.path()}, not /login")
        # A wrong password is refused with a message, and no session.
        web.send_login("ana", "not-the-password-at-all", "login-refused")
        check(web.path() == "/login", "a wrong password did not stay on /login")
        check(web.text("#login-error").strip(), "no #login-error after a wrong password")
        self.login_as("ana")
        check(web.path() in ("/queue", "/"), f"after login: {web.path()}")
        cookie = web.driver.get_cookie("dp_session")
        check(cookie, "no dp_session cookie after login")
        check(cookie.get("httpOnly"), "dp_session is not HttpOnly")
        check(str(cookie.get("sameSite", "")).lower() == "strict",
              f"dp_session is SameSite={cookie.get('sameSite')}, not Strict")
        check(len(self.web.all("h1")) == 1, f"{web.path()} has not exactly one <h1>")
        check(web.all("a[href='#main']"), "no skip link to #main")
        overdue = web.text("#count-overdue")
        check(re.search(r"\b2\b", overdue), f"#count-overdue says '{overdue}', expected 2")
        check(re.search(r"log ?out", web.text("body"), re.I), "no Log out button")
        status, headers, _ = http_request(self.stack.base + "/queue?view=mine",
                                          cookie=web.cookie())
        check(status == 200, f"GET /queue with the session cookie: {status}")
        csp = headers.get("Content-Security-Policy", "")
        check("default-src 'none'" in csp and "script-src" not in csp,
              f"Content-Security-Policy: {csp!r}")
        check(headers.get("X-Content-Type-Options", "") == "nosniff", "no nosniff")

    # 2
    def test_lockout(self):
        web = self.web
        name, _, password = STAFF["lou"]
        web.driver.delete_all_cookies()
        web.get(self.stack.base + "/login")
        # Each refusal answers with the login form again: typed into as it comes.
        for attempt in range(5):
            web.send_login("lou", f"wrong-password-{attempt}", "login-refused")
            check(web.path() == "/login" and web.text("#login-error").strip(),
                  f"wrong password {attempt + 1}: not refused with #login-error")
        web.send_login("lou", password, "login-locked")
        check(web.path() == "/login", "the right password was accepted after 5 failures")
        error = web.text("#login-error")
        check(re.search(r"lock|too many|try again later", error, re.I),
              f"the refusal after 5 failures does not say the account is locked: '{error}'")
        check(name not in web.text("body"), "the locked account's name is shown")
        status, headers, _ = http_request(self.stack.base + "/queue", cookie=web.cookie())
        check(status in (302, 303, 401, 403) and (status >= 400 or "/login" in headers.get(
            "Location", "")), f"GET /queue after the refused login: {status}")

    # 3
    def test_queue_filters_and_search(self):
        web = self.web
        self.login_as("ana")
        everything = list(ENQUIRIES)
        self.expect_queue("view=all", everything)
        self.expect_queue("view=due-today", ["today-1", "today-2"])
        self.expect_queue("view=overdue", ["late-1", "late-2"])
        self.expect_queue("view=unassigned", [k for k in everything if k != "late-1"])
        self.expect_queue("view=all&status=assigned", ["late-1"])
        self.expect_queue("view=all&status=assigned&status=triaged", everything)
        self.expect_queue("view=all&kind=membership-application", ["applicant"])
        self.expect_queue("view=all&kind=media", ["today-2"])
        self.expect_queue("view=mine", [])
        self.expect_queue(f"view=all&q={SEARCH_WORD}", ["today-1"])
        # The same search through the form #filters, as a person types it.
        web.get(self.stack.base + "/queue?view=all")
        form = web.one("form#filters")
        web.fill(form, "q", "radio interview")
        web.submit_form(form, "queue-search")
        check("q=" in web.driver.current_url, f"the search form went to {web.driver.current_url}")
        found = {int(m) for m in re.findall(r"/enquiries/(\d+)", web.driver.page_source)}
        check(self.ids["today-2"] in found and self.ids["today-1"] not in found,
              f"searching 'radio interview' found {sorted(found)}")
        overdue = web.text("#count-overdue")
        check(re.search(r"\b2\b", overdue), f"#count-overdue says '{overdue}' on the queue")
        # Admitting is for admins: an agent sees no admission form.
        web.get(f"{self.stack.base}/enquiries/{self.ids['applicant']}", "enquiry-agent")
        check(not web.all("form#admit-form"), "an agent is offered the admission form")

    # 4
    def test_enquiry_day_of_work(self):
        """Due today -> open -> assign to me -> note -> due date -> reply -> close -> reopen."""
        web, number = self.web, self.ids["today-1"]
        self.login_as("ana")
        self.open_from_queue("view=due-today", number, "enquiry")
        subject = ENQUIRIES["today-1"][2]
        check(subject in web.text("body"), "the enquiry's subject is not on its page")
        check(SEARCH_WORD in web.text("body"), "the enquiry's body is not on its page")
        headings = " | ".join(h.text for h in web.all("h2"))
        for section in ("Details", "Triage", "History", "Notes", "Messages"):
            check(section.lower() in headings.lower(), f"no <h2> {section} (h2s: {headings})")
        check(not web.all("form#admit-form"), "an admission form on an information request")

        web.submit(web.one("#assign-me"), "enquiry-assigned")
        web.expect_flash("assign to me")
        enquiry = self.stack.enquiry(number)
        check(status_name(field(enquiry, "status")) == "assigned",
              f"after Assign to me the status is {field(enquiry, 'status')}")
        offered = self.offered_moves()
        check(offered and offered <= {"triaged", "answered", "rejected"},
              f"moves offered while assigned (allowed: triaged, answered, rejected): {offered}")

        note = "Called the school: they want the list of publications by Friday."
        web.send_form("form#note-form", {"text": note}, "enquiry-note")
        check(note in web.text("body"), "the note is not on the page after adding it")

        new_due = (paris_today() + datetime.timedelta(days=7)).isoformat()
        reason = "Waiting for the publications list from the secretariat"
        web.send_form("form#due-form", {"due_on": new_due, "reason": reason}, "enquiry-due")
        check(new_due in web.text("body"), f"the new due date {new_due} is not shown")
        check(reason in web.text("body"), "the due date's reason is not shown")

        reply_subject = "Your question about artificial intelligence in schools"
        reply_body = "Dear Ms Silva,\n\nPlease find our publications on the partnership's site."
        web.send_form("form#reply-form", {"subject": reply_subject, "body": reply_body},
                      "enquiry-replied")
        page = web.text("body")
        check(reply_subject in page, "the reply is not listed under Messages")
        check(re.search(r"queued", page, re.I), "the reply is not shown as queued")
        check("closed" in self.offered_moves(), "closing is not offered once answered")

        self.transition("closed", "enquiry-closed")
        self.transition("triaged", "enquiry-reopened")

        enquiry = self.stack.enquiry(number)
        check(status_name(field(enquiry, "status")) == "triaged",
              f"after reopening the status is {field(enquiry, 'status')}")
        check(field(enquiry, "due_on") == new_due, f"due_on is {field(enquiry, 'due_on')}")
        # After the receipt and the intake's triage, every entry is Ana's, and
        # her four moves are there in order.
        history = self.history_actors(enquiry)
        expected = self.actor("ana")
        steps = history[2:]
        check(all(actor == expected for _, actor in steps),
              f"the history does not name '{expected}' for each step: {history}")
        wanted = iter(["assigned", "answered", "closed", "triaged"])
        step = next(wanted)
        for status, _ in steps:
            if status == step:
                step = next(wanted, None)
        check(step is None, f"the history lacks assigned, answered, closed, triaged: {history}")
        notes = field(enquiry, "notes") or []
        check(any(field(n, "text") == note and field(n, "actor") == expected for n in notes),
              f"the note is not recorded as written by {expected}: {notes}")
        messages = field(enquiry, "messages") or []
        check(any(field(m, "subject") == reply_subject and field(m, "status") == "queued"
                  for m in messages), f"the reply is not stored as queued: {messages}")
        # And the page's history says who did each step.
        items = [li.text for li in web.all("ol#history li")]
        by_ana = [item for item in items if STAFF["ana"][0] in item]
        check(len(by_ana) >= 4, f"ol#history names {STAFF['ana'][0]} in {len(by_ana)} entries "
              f"(expected assign, reply, close, reopen): {items}")
        if self.curve:
            check(any("via console" in item for item in by_ana),
                  f"ol#history does not say 'via console': {by_ana}")

    def offered_moves(self):
        form = self.web.one("form#transition-form")
        values = [o.get_attribute("value") for o in self.web.all("select[name=to] option", form)]
        values += [b.get_attribute("value") for b in self.web.all(
            "button[name=to], input[type=submit][name=to], input[type=radio][name=to]", form)]
        return {v for v in values if v}

    def transition(self, to, name):
        web = self.web
        form = web.one("form#transition-form")
        check(to in self.offered_moves(), f"moving to {to} is not offered: {self.offered_moves()}")
        select = web.all("select[name=to]", form)
        if select:
            Select(select[0]).select_by_value(to)
            web.submit_form(form, name)
        else:
            buttons = web.all(f"button[name=to][value='{to}'], input[type=submit][name=to]"
                              f"[value='{to}']", form)
            if buttons:
                web.submit(buttons[0], name)
            else:
                web.one(f"input[type=radio][name=to][value='{to}']", form).click()
                web.submit_form(form, name)
        web.expect_flash(f"move to {to}")

    # 5
    def test_admit_partner(self):
        web, number = self.web, self.ids["applicant"]
        self.login_as("bruno")
        self.open_from_queue("view=all&kind=membership-application", number, "enquiry-application")
        web.send_form("form#admit-form", dict(APPLICANT, joined_on=paris_today().isoformat()),
                      "enquiry-admitted")
        enquiry = self.stack.enquiry(number)
        check(status_name(field(enquiry, "status")) == "closed",
              f"after admitting, the application is {field(enquiry, 'status')}")
        outcome = field(enquiry, "outcome") or ""
        check(APPLICANT["slug"] in outcome, f"the outcome '{outcome}' does not name the partner")
        closing = self.history_actors(enquiry)[-1]
        check(closing == ("closed", self.actor("bruno")), f"the closing entry is {closing}")
        partner = self.stack.dpctl_json("partner", "show", APPLICANT["slug"])
        text = json.dumps(partner).lower()
        check(APPLICANT["name"].lower() in text and "exchange of letters" in text
              and APPLICANT["domains"] in text, f"the registry's partner: {partner}")
        web.get(self.stack.base + "/partners")
        links = [a for a in web.all("a") if APPLICANT["name"] in a.text]
        check(links, f"{APPLICANT['name']} is not in /partners")
        web.submit(links[0])
        check(web.path() == f"/partners/{APPLICANT['slug']}", f"the partner link went to "
              f"{web.path()}")
        check(APPLICANT["name"] in web.text("body"), "the partner's page does not name it")

    # 6
    def test_csrf_refused(self):
        web, number = self.web, self.ids["today-2"]
        self.login_as("ana")
        web.get(f"{self.stack.base}/enquiries/{number}")
        token = web.one("form#note-form input[name=csrf]").get_attribute("value")
        check(token, "the note form's csrf field is empty")
        check(all(f.find_elements(By.CSS_SELECTOR, "input[name=csrf]")
                  for f in web.all("form[method=post], form[method=POST]")),
              "a POST form without a csrf field")
        cookie = web.cookie()
        check(cookie, "no session cookie")
        before = self.stack.enquiry(number)
        url = f"{self.stack.base}/enquiries/{number}"
        forged = [("note", {"text": "forged note without a token"}),
                  ("note", {"text": "forged note with a wrong token", "csrf": "x" + token[1:]}),
                  ("note", {"text": "forged note with an empty token", "csrf": ""}),
                  ("transition", {"to": "rejected", "note": "forged"}),
                  ("assign", {"assignee": "me", "csrf": token[::-1]})]
        for action, body in forged:
            status, _, _ = http_request(f"{url}/{action}", "POST", body, cookie=cookie)
            check(status == 403, f"a forged POST /{action} ({sorted(body)}) got {status}, not 403")
        after = self.stack.enquiry(number)
        check(after == before, "a forged POST changed the enquiry")
        # The same POST with the page's token is taken: the token was the difference.
        status, headers, _ = http_request(f"{url}/note", "POST",
                                          {"text": "note with the right token", "csrf": token},
                                          cookie=cookie)
        check(status == 303, f"the POST with the page's csrf token got {status}, not 303")
        location = urllib.parse.urlsplit(headers.get("Location", "")).path
        check(location == f"/enquiries/{number}", f"303 to {headers.get('Location')}")
        notes = field(self.stack.enquiry(number), "notes") or []
        check(len(notes) == len(field(before, "notes") or []) + 1, "the genuine note is missing")

    # 7
    def test_session_expiry(self):
        web = self.web
        # The login's 303 is followed at once: /queue is served to the new session.
        self.login_as("ana", base=self.stack.base2)
        check(web.path() == "/queue", f"right after login the console showed {web.path()}")
        time.sleep(IDLE_TIMEOUT_S + 1.5)
        web.get(self.stack.base2 + "/queue?view=all", "login")
        check(web.path() == "/login", f"after {IDLE_TIMEOUT_S + 1.5} s idle (time-out "
              f"{IDLE_TIMEOUT_S} s) /queue stayed at {web.path()} ({web.text('h1')})")

    # 8
    def test_logout(self):
        web = self.web
        self.login_as("ana")
        cookie = web.cookie()
        check(http_request(self.stack.base + "/queue", cookie=cookie)[0] == 200,
              "the session cookie does not open /queue before logout")
        buttons = web.all("form[action='/logout'] button, form[action='/logout'] "
                          "input[type=submit]")
        check(buttons, "no Log out button (a form posting to /logout)")
        web.submit(buttons[0], "login")
        check(web.path() == "/login", f"Log out went to {web.path()}")
        status, headers, _ = http_request(self.stack.base + "/queue", cookie=cookie)
        check(status != 200 and (status >= 400 or "/login" in headers.get("Location", "")),
              f"the old cookie still opens /queue after logout ({status})")
        status, _, _ = http_request(f"{self.stack.base}/enquiries/{self.ids['fresh']}/note",
                                    "POST", {"text": "after logout"}, cookie=cookie)
        check(status in (302, 303, 401, 403), f"a POST with the old cookie got {status}")

    # 9
    def test_keyboard_only(self):
        web = self.web
        name, _, password = STAFF["kim"]
        web.driver.delete_all_cookies()
        web.get(self.stack.base + "/login")
        check(web.tab_to("a[href='#main']", limit=1) == 1, "the first TAB is not the skip link")
        web.tab_to("#login-form [name=login]")
        check(web.focus_visible(), "the focused login field shows no focus ring")
        web.press("kim")
        web.press(Keys.TAB)
        check(web.focused_matches("#login-form [name=password]"),
              "TAB from the login field does not go to the password")
        web.press(password)
        web.next_page(lambda: web.press(Keys.ENTER))
        check(web.path() != "/login", "ENTER in the password field did not log in: "
              + web.text("#login-error"))
        check(name in web.text("body"), "the keyboard login did not log Kim in")
        web.get(f"{self.stack.base}/enquiries/{self.ids['late-2']}", "enquiry")
        web.tab_to("#note-form [name=text]", limit=250)
        text = "Typed with the keyboard alone"
        web.press(text)
        web.tab_to("#note-form button, #note-form input[type=submit]", limit=10)
        check(web.focus_visible(), "the focused note button shows no focus ring")
        web.next_page(lambda: web.press(Keys.ENTER))
        web.expect_flash("a note from the keyboard")
        check(text in web.text("body"), "the keyboard note is not on the page")
        notes = field(self.stack.enquiry(self.ids["late-2"]), "notes") or []
        check(any(field(n, "text") == text and field(n, "actor") == self.actor("kim")
                  for n in notes), f"the keyboard note is not recorded by Kim: {notes}")

    ORDER = ["test_login", "test_lockout", "test_queue_filters_and_search",
             "test_enquiry_day_of_work", "test_admit_partner", "test_csrf_refused",
             "test_session_expiry", "test_logout", "test_keyboard_only"]


def on_deadline(signum, frame):
    raise Failure(f"the run took more than {RUN_DEADLINE_S} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.environ.get("DP_BUILD_DIR", ""),
                        help="the build folder with services/*/dp-* (default: $DP_BUILD_DIR)")
    parser.add_argument("--axe", required=True, help="axe.min.js (scripts/fetch-axe)")
    parser.add_argument("--artifacts", default="",
                        help="screenshots and logs (default: BUILD/Testing/artifacts/console)")
    parser.add_argument("--only", action="append", default=[],
                        help="run only this scenario (repeatable; the others count as not run)")
    parser.add_argument("--no-curve", action="store_true",
                        help="development mode: no key folder (actors read '(unauthenticated)')")
    options = parser.parse_args()
    check_build = options.build_dir or "."
    artifacts = options.artifacts or os.path.join(check_build, "Testing", "artifacts", "console")
    shutil.rmtree(artifacts, ignore_errors=True)
    os.makedirs(os.path.join(artifacts, "logs"), exist_ok=True)
    print(f"screenshots and logs: {os.path.abspath(artifacts)}", flush=True)

    signal.signal(signal.SIGALRM, on_deadline)
    signal.alarm(RUN_DEADLINE_S)
    work = tempfile.mkdtemp(prefix="dp-console-browser-")
    results = []
    stack = browser = None
    started = time.monotonic()
    try:
        check(options.build_dir, "--build-dir or DP_BUILD_DIR must name the build folder")
        admin_url = require_env("DP_TEST_ADMIN_URL")
        # The browser first: what it lacks fails the run before anything starts.
        browser = Browser(work, artifacts, os.path.abspath(options.axe))
        stack = Stack(options.build_dir, work, artifacts)
        stack.curve = not options.no_curve
        stack.start_all(admin_url)
        ids = stack.seed()
        print(f"stack ready in {time.monotonic() - started:.1f} s: console {stack.base}, "
              f"enquiries {ids}", flush=True)
        scenarios = Scenarios(stack, browser, ids, curve=not options.no_curve)
        for name in Scenarios.ORDER:
            if options.only and name not in options.only:
                continue
            begun = time.monotonic()
            try:
                getattr(scenarios, name)()
                results.append((name, None))
            except Failure as failure:
                results.append((name, str(failure)))
                browser.keep_failure(name)
            except Exception as error:  # pylint: disable=broad-except
                # Selenium's own errors (an element gone, a time-out) fail the scenario too.
                results.append((name, f"{type(error).__name__}: {error}\n"
                                      + traceback.format_exc(limit=4)))
                browser.keep_failure(name)
            print(f"{'PASS' if results[-1][1] is None else 'FAIL'} {name} "
                  f"({time.monotonic() - begun:.1f} s)"
                  + ("" if results[-1][1] is None else f": {results[-1][1]}"), flush=True)
        results.append(("every_page_accessible_and_narrow",
                        "\n  ".join(browser.problems) if browser.problems else None))
        print(f"{'PASS' if not browser.problems else 'FAIL'} every_page_accessible_and_narrow "
              f"({browser.landings} pages landed on, {len(browser.checked)} distinct ones "
              f"through axe-core, {len(browser.captured)} photographed at "
              f"{WIDE[0]} and {NARROW[0]} px)"
              + ("" if not browser.problems else ":\n  " + "\n  ".join(browser.problems)),
              flush=True)
    except Failure as failure:
        results.append(("setup", str(failure)))
        print(f"FAIL setup: {failure}", flush=True)
    except Exception as error:  # pylint: disable=broad-except
        results.append(("setup", f"{type(error).__name__}: {error}"))
        print(f"FAIL setup: {traceback.format_exc()}", flush=True)
    finally:
        signal.alarm(0)
        failed = [name for name, problem in results if problem is not None]
        if failed and stack:
            print(stack.logs(), file=sys.stderr)
        if browser:
            try:
                browser.quit()
            except Exception as error:  # pylint: disable=broad-except
                print(f"FAIL: chromedriver did not quit: {error}", file=sys.stderr)
                failed.append("cleanup")
        if stack:
            try:
                stack.stop_all()
            except Failure as failure:
                print(f"FAIL while cleaning up: {failure}", file=sys.stderr)
                failed.append("cleanup")
        shutil.rmtree(work, ignore_errors=True)
    print(f"screenshots and logs kept in {os.path.abspath(artifacts)}")
    if failed or not results:
        print(f"FAIL: {len(failed)} of {len(results)} failed: {', '.join(failed)} "
              f"({time.monotonic() - started:.0f} s)")
        return 1
    print(f"PASS: {len(results)} checks in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
