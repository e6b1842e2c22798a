#!/usr/bin/python3
"""A feeding system for the enquiry intake, written as an example client.

It plays the backend of a website's contact form: it takes enquiries (from a
JSONL file, or N synthetic ones) and hands each to the intake service with
dp.SubmitEnquiryRequest, over one ZeroMQ DEALER socket, as proto/README.md
describes. What it shows:

  * Idempotency. Every enquiry carries a stable idempotency key, so running
    the feeder again over the same input stores nothing twice: the intake
    answers already_submitted=true with the original id, which counts as
    success. The same key with other content is refused (ALREADY_EXISTS).
  * Several requests in flight (--in-flight) on one socket; replies are
    matched to requests by request_id, not by order.
  * Lazy Pirate retries. Each request has a deadline (--timeout-ms). When one
    passes, the socket is closed and a new one opened (a reply lost with a
    dead connection never comes, and a fresh socket drops late replies to
    earlier tries), and every request still unanswered is sent again: the
    same request_id, the same content. The intake may have stored it the
    first time; the idempotency key makes that harmless.
  * Which failures to retry. UNAVAILABLE (database down, nothing written) and
    ABORTED are retried after a backoff; every other error code is permanent
    for that enquiry (INVALID_ARGUMENT, ALREADY_EXISTS, ...): it is reported,
    never resent. An enquiry that gets no answer after --attempts tries is
    given up (it may or may not be stored: run the feeder again to find out).

Input file: one JSON object per line with the fields of dp.EnquirySubmission
(sender_name, email, organisation, country, kind, subject, body, language,
areas, received_at, honeypot, and optionally idempotency_key). When a line has
no idempotency_key, one is derived from a hash of its content, which is just
as stable. received_at is part of the content: keep it fixed in the file.

Runs with /usr/bin/python3 and the Debian packages python3-zmq and
python3-protobuf. The protobuf modules (*_pb2.py) come from --proto-dir (the
build makes them in <build>/examples/python), or else the feeder runs protoc
over the repository's proto/ into a temporary folder.

Exit status: 0 when every enquiry was acknowledged (accepted or already
submitted), 1 when some were rejected or given up, 2 on a usage error.

Examples:
  feeder.py --generate 500 --seed 7
  feeder.py enquiries.jsonl --source website --in-flight 16
  feeder.py --generate 3 --seed 1 --emit > sample.jsonl    # write, don't send
"""

import argparse
import atexit
import collections
import hashlib
import importlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import zmq
from google.protobuf.message import DecodeError

# Status codes (proto/envelope.proto, dp.Code) the feeder treats specially.
CODE_OK = 0
RETRYABLE_CODES = {10: "ABORTED", 14: "UNAVAILABLE"}

SUBMISSION_FIELDS = ("idempotency_key", "sender_name", "email", "organisation", "country",
                     "kind", "subject", "body", "language", "areas", "received_at", "honeypot")



def die(message):
    """A setup or input error: nothing was sent."""
    print("feeder: " + message, file=sys.stderr)
    sys.exit(2)


# ---- protobuf modules ---------------------------------------------------------------

def load_protobuf_modules(proto_dir):
    """Imports envelope_pb2 and intake_pb2 from proto_dir; without one, runs
    protoc over the repository's proto/ into a temporary folder first."""
    if not proto_dir:
        protoc = shutil.which("protoc")
        if not protoc:
            die("protoc not found (Debian: protobuf-compiler); install it or give --proto-dir")
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proto")
        proto_dir = tempfile.mkdtemp(prefix="dp-feeder-")
        atexit.register(shutil.rmtree, proto_dir, True)
        subprocess.run([protoc, "--proto_path=" + source, "--python_out=" + proto_dir,
                        os.path.join(source, "envelope.proto"),
                        os.path.join(source, "intake.proto")], check=True)
    sys.path.insert(0, proto_dir)
    try:
        return importlib.import_module("envelope_pb2"), importlib.import_module("intake_pb2")
    except ImportError as error:
        die(f"no usable envelope_pb2/intake_pb2 in {proto_dir}: {error}")


# ---- enquiries ----------------------------------------------------------------------

def content_key(enquiry):
    """A key derived from the content: the same enquiry always gets the same key."""
    canonical = json.dumps(enquiry, sort_keys=True, ensure_ascii=False).encode()
    return "h-" + hashlib.sha256(canonical).hexdigest()[:40]


def read_jsonl(path):
    """The enquiries of a JSONL file, each with an idempotency key; a malformed
    line stops the program before anything is sent."""
    enquiries = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                enquiry = json.loads(line)
                if not isinstance(enquiry, dict):
                    raise ValueError("not a JSON object")
                unknown = set(enquiry) - set(SUBMISSION_FIELDS)
                if unknown:
                    raise ValueError("unknown field(s) " + ", ".join(sorted(unknown)))
                for name, value in enquiry.items():
                    if name == "areas":
                        if not (isinstance(value, list) and all(isinstance(a, str) for a in value)):
                            raise ValueError("areas must be a list of strings")
                    elif not isinstance(value, str):
                        raise ValueError(f"{name} must be a string")
            except ValueError as error:  # json.JSONDecodeError is a ValueError
                die(f"{path}:{number}: {error}")
            enquiry.setdefault("idempotency_key", content_key(enquiry))
            enquiries.append(enquiry)
    return enquiries


FIRST_NAMES = ["Anna", "Luca", "Sofia", "Jan", "Marie", "Pedro", "Ingrid", "Tomasz", "Elena",
               "Yusuf", "Claire", "Mikko", "Ana", "Dimitris", "Katrin", "Oskar"]
LAST_NAMES = ["Novak", "Rossi", "Dubois", "Schmidt", "Kowalski", "Garcia", "Larsen", "Papadopoulos",
              "Horvat", "Virtanen", "Silva", "Keller", "Ionescu", "Murphy", "Janssens", "Berg"]
ORGANISATIONS = ["", "Nordlys Data AS", "Civic Code e.V.", "Institut du Numerique", "OpenSchool",
                 "SecureNet Ltd", "Fundacja Cyfrowa", "Media Watch Europe"]
DOMAINS = ["example.org", "example.net", "mail.example.com", "uni.example.edu"]
COUNTRIES = ["FR", "DE", "IT", "PL", "ES", "NO", "GR", "HR", "FI", "PT", "RO", "IE", "BE", ""]
LANGUAGES = ["en", "fr", "de", "it", "pl", "de-CH", ""]
KINDS = ["membership-application", "cooperation-proposal", "event-participation",
         "information-request", "media", "other"]  # the kinds db/migrations/0003 creates
TOPICS = ["data protection", "artificial intelligence", "cybercrime", "media literacy",
          "hate speech", "election integrity", "child safety online", "cultural heritage"]
SUBJECTS = ["Joining the Digital Partnership", "Proposal: joint work on {topic}",
            "Invitation to speak about {topic}", "Question about {topic}",
            "Press enquiry on {topic}", "Partnership and {topic}"]


def generate(count, seed):
    """count synthetic enquiries, the same ones for the same seed: names,
    content, received_at and idempotency keys all come from the seed."""
    rng = random.Random(seed)
    received = 1767603600  # 2026-01-05T09:00:00Z; every enquiry a few minutes later
    enquiries = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        topic = rng.choice(TOPICS)
        received += rng.randint(1, 600)
        enquiries.append({
            # In a real form backend this would be the form submission's id.
            "idempotency_key": f"form-{seed}-{index:06d}",
            "sender_name": f"{first} {last}",
            "email": f"{first}.{last}.{index}@{rng.choice(DOMAINS)}".lower(),
            "organisation": rng.choice(ORGANISATIONS),
            "country": rng.choice(COUNTRIES),
            "kind": rng.choice(KINDS),
            "subject": rng.choice(SUBJECTS).format(topic=topic),
            "body": f"Dear Digital Partnership team,\n\nwe would like to talk about {topic}. "
                    f"(Synthetic enquiry {index} of seed {seed}.)\n\nBest regards,\n{first} {last}",
            "language": rng.choice(LANGUAGES),
            "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(received)),
        })
    return enquiries


# ---- submitting ---------------------------------------------------------------------

class Submission:
    """One enquiry on its way: its request (built once, resent unchanged) and
    what happened to it so far."""

    def __init__(self, number, enquiry, request_bytes, request_id):
        self.number = number          # 1-based position in the input, for reports
        self.key = enquiry["idempotency_key"]
        self.request_bytes = request_bytes
        self.request_id = request_id
        self.failures = 0             # timeouts and retryable errors so far
        self.deadline = None          # when the reply is due (monotonic), while sent
        self.retry_at = None          # when to send again, while waiting out a backoff


class Feeder:
    def __init__(self, args, envelope_pb2, intake_pb2):
        self.args = args
        self.envelope_pb2 = envelope_pb2
        self.intake_pb2 = intake_pb2
        self.context = zmq.Context()
        self.socket = None
        self.jitter = random.Random()     # backoff jitter: not tied to --seed
        self.counts = collections.Counter()
        self.rejected = collections.Counter()  # (code name, field) -> enquiries
        self.failed = 0                   # enquiries not acknowledged
        self.run_id = uuid.uuid4().hex[:12]  # prefix of this run's request ids
        self.resets_in_a_row = 0          # socket reopened without a reply since

    def open_socket(self):
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)  # closing drops unsent messages at once
        self.socket.connect(self.args.endpoint)

    def backoff(self, failures):
        """Seconds to wait after the nth failure in a row: doubling, capped, with jitter."""
        return min(0.2 * 2 ** (failures - 1), 5.0) * self.jitter.uniform(0.5, 1.0)

    def build(self, number, enquiry):
        body = self.intake_pb2.SubmitEnquiryRequest(
            enquiry=self.intake_pb2.EnquirySubmission(source=self.args.source, **enquiry))
        # The request_id is ours; it stays the same on every resend of this request.
        request_id = f"{self.run_id}-{number}"
        request = self.envelope_pb2.Request(request_id=request_id, type="dp.SubmitEnquiryRequest",
                                            body=body.SerializeToString())
        return Submission(number, enquiry, request.SerializeToString(), request_id)

    def send(self, item):
        self.counts["messages sent"] += 1
        item.retry_at = None
        item.deadline = time.monotonic() + self.args.timeout_ms / 1000
        try:
            self.socket.send_multipart([b"", item.request_bytes], flags=zmq.NOBLOCK)
        except zmq.Again:
            pass  # no connection can take it now: it will time out and be resent

    def fail(self, item, active, why):
        """A try failed (timeout or retryable error). True when the enquiry
        still has attempts left; otherwise it is given up."""
        item.failures += 1
        if item.failures < self.args.attempts:
            return True
        print(f"feeder: gave up on #{item.number} (key {item.key}) after {item.failures} "
              f"attempts, last: {why}; it may or may not be stored", file=sys.stderr)
        self.counts["gave up"] += 1
        self.failed += 1
        del active[item.request_id]
        return False

    def handle_reply(self, frames, active):
        if len(frames) != 2 or frames[0] != b"":
            print("feeder: dropped a malformed reply", file=sys.stderr)
            return
        try:
            reply = self.envelope_pb2.Reply.FromString(frames[1])
        except DecodeError:
            print("feeder: dropped a reply that does not decode as dp.Reply", file=sys.stderr)
            return
        if not reply.request_id:  # the service could not even read our envelope
            print(f"feeder: a request was refused unread: {reply.status.message}", file=sys.stderr)
            return
        item = active.get(reply.request_id)
        if item is None or item.deadline is None:
            return  # an answer to a request already settled (or not ours): drop it
        code = reply.status.code
        if code == CODE_OK:
            answer = self.intake_pb2.SubmitEnquiryReply.FromString(reply.body)
            self.counts["already submitted" if answer.already_submitted else "accepted"] += 1
            del active[item.request_id]
        elif code in RETRYABLE_CODES:
            # Nothing was written: send the same request again after a pause.
            self.counts["retryable errors"] += 1
            item.deadline = None
            if self.fail(item, active, f"{RETRYABLE_CODES[code]}: {reply.status.message}"):
                item.retry_at = time.monotonic() + self.backoff(item.failures)
        else:
            # Permanent: resending the same request would get the same answer.
            try:
                name = self.envelope_pb2.Code.Name(code).removeprefix("CODE_")
            except ValueError:  # a code newer than our copy of the contract
                name = f"code {code}"
            field = reply.status.field or "-"
            self.rejected[(name, field)] += 1
            self.failed += 1
            print(f"feeder: #{item.number} (key {item.key}) rejected: {name} {field}: "
                  f"{reply.status.message}", file=sys.stderr)
            del active[item.request_id]

    def lazy_pirate(self, active, expired):
        """A reply is overdue: the connection may be dead (the service was
        restarted, the network broke). Close the socket, open a new one and
        resend every unanswered request, unchanged. Requests not yet overdue
        go again too (their replies would come to the closed socket), but
        that does not count as a failed try for them."""
        self.counts["timeouts"] += len(expired)
        for item in expired:
            self.fail(item, active, f"no reply within {self.args.timeout_ms} ms")
        self.socket.close()
        self.counts["socket reopened"] += 1
        self.resets_in_a_row += 1
        time.sleep(self.backoff(self.resets_in_a_row))
        self.open_socket()
        for item in active.values():
            if item.deadline is not None:
                self.send(item)

    def run(self, enquiries):
        """Submits every enquiry; returns when each is settled."""
        waiting = collections.deque(enumerate(enquiries, 1))
        active = {}                       # request_id -> Submission, sent or waiting to resend
        pace = 1 / self.args.rate if self.args.rate > 0 else 0
        next_start = time.monotonic()
        self.open_socket()
        while waiting or active:
            now = time.monotonic()
            # Keep up to --in-flight enquiries going (at most --rate per second).
            while waiting and len(active) < self.args.in_flight and now >= next_start:
                item = self.build(*waiting.popleft())
                active[item.request_id] = item
                self.send(item)
                next_start = now + pace
            # Resend those whose backoff after a retryable error is over.
            for item in active.values():
                if item.retry_at is not None and now >= item.retry_at:
                    self.send(item)
            expired = [i for i in active.values() if i.deadline is not None and now >= i.deadline]
            if expired:
                self.lazy_pirate(active, expired)
                continue
            # Sleep until a reply comes or the next deadline, retry or start.
            wake = [i.deadline or i.retry_at for i in active.values()]
            if waiting and len(active) < self.args.in_flight:
                wake.append(next_start)
            timeout_ms = int(max(0.0, min(wake, default=now) - now) * 1000) + 1
            if self.socket.poll(timeout_ms, zmq.POLLIN):
                self.resets_in_a_row = 0  # something answered: the connection works
                while True:
                    try:
                        frames = self.socket.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.handle_reply(frames, active)
        self.socket.close()
        self.context.term()

    def print_summary(self, total):
        c = self.counts
        print(f"feeder: {total} enquiries from source {self.args.source!r} "
              f"to {self.args.endpoint}")
        print(f"  accepted:           {c['accepted']}")
        print(f"  already submitted:  {c['already submitted']}")
        print(f"  rejected:           {sum(self.rejected.values())}")
        for (code, field), n in sorted(self.rejected.items()):
            print(f"    {code} {field}: {n}")
        print(f"  gave up:            {c['gave up']}")
        print(f"  timeouts:           {c['timeouts']}")
        print(f"  retryable errors:   {c['retryable errors']}")
        print(f"  socket reopened:    {c['socket reopened']}")
        print(f"  messages sent:      {c['messages sent']}")
        unsettled = total - c["accepted"] - c["already submitted"] - self.failed
        if unsettled:
            print(f"  not finished:       {unsettled}")
        return self.failed + unsettled


def main():
    parser = argparse.ArgumentParser(
        description="Submit enquiries to the intake service, idempotently and with retries.",
        epilog="Exit status: 0 all acknowledged, 1 some rejected or given up, 2 usage error.")
    parser.add_argument("file", nargs="?", help="JSONL file of enquiries")
    parser.add_argument("--generate", type=int, metavar="N", help="submit N synthetic enquiries")
    parser.add_argument("--seed", type=int, default=1, help="seed for --generate (default 1)")
    parser.add_argument("--emit", action="store_true",
                        help="print the enquiries as JSONL and exit, without sending")
    parser.add_argument("--endpoint",
                        default=os.environ.get("DP_INTAKE_ENDPOINT") or "tcp://127.0.0.1:7102",
                        help="intake endpoint (default: $DP_INTAKE_ENDPOINT or tcp://127.0.0.1:7102)")
    parser.add_argument("--source", default="website",
                        help="this feeding system's name, a slug (default: website)")
    parser.add_argument("--timeout-ms", type=int, default=5000,
                        help="how long to wait for each reply (default 5000)")
    parser.add_argument("--attempts", type=int, default=5,
                        help="tries per enquiry before giving up (default 5)")
    parser.add_argument("--in-flight", type=int, default=8,
                        help="enquiries submitted at once (default 8)")
    parser.add_argument("--rate", type=float, default=0,
                        help="start at most this many enquiries per second (default 0: no limit)")
    parser.add_argument("--proto-dir",
                        help="folder of the generated *_pb2.py (default: run protoc on proto/)")
    args = parser.parse_args()
    if (args.file is None) == (args.generate is None):
        parser.error("give either a JSONL file or --generate N")
    if (args.generate is not None and args.generate < 0) or args.timeout_ms < 1 \
            or args.attempts < 1 or args.in_flight < 1 or args.rate < 0:
        parser.error("--generate, --rate must be >= 0; --timeout-ms, --attempts, --in-flight >= 1")

    enquiries = generate(args.generate, args.seed) if args.file is None else read_jsonl(args.file)
    if args.emit:
        for enquiry in enquiries:
            print(json.dumps(enquiry, ensure_ascii=False))
        return 0

    feeder = Feeder(args, *load_protobuf_modules(args.proto_dir))
    try:
        feeder.run(enquiries)
    except KeyboardInterrupt:
        print("feeder: interrupted", file=sys.stderr)
    not_acknowledged = feeder.print_summary(len(enquiries))
    return 1 if not_acknowledged else 0


if __name__ == "__main__":
    sys.exit(main())
