/* What the event commands share: one event for people and for programs,
   with its payload decoded by its type (dp_events.h) rather than left as
   bytes, and the checks on their operands. The commands talk to the
   notifications service (DPCTL_NOTIFY). */
#ifndef DPCTL_EVENTS_H
#define DPCTL_EVENTS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "dpctl.h"
#include "dpctl_args.h"
#include "notify.pb-c.h"

/* The event as a JSON object with the fields of dp.Event; "payload" is the
   payload's message (events.proto) as an object, base64 when its type is
   not known, or null when it does not decode. NULL when out of memory. */
json_t *dpctl_event_json(const Dp__Event *event);

/* Prints one line: seq, time, type, aggregate, the note (or nothing) and
   the payload as compact JSON. */
void dpctl_event_print(FILE *out, const Dp__Event *event, const char *note);

/* Reads the option as a seq, a count or a time in ms for a uint32 field:
   0 and *value set, or a usage error's exit code when it is too large. */
int dpctl_events_uint32(const dpctl_args_t *args, const char *name, uint32_t fallback,
                        uint32_t *value);

/* Reads the index-th operand as a whole number (a seq or an id) into
 *value; 0, or a usage error naming what (e.g. "SEQ"). */
int dpctl_events_number(const dpctl_args_t *args, size_t index, const char *what, uint64_t *value);

/* Says on stderr that the service's reply lacks the `what` it should hold;
   returns DPCTL_EXIT_FAILURE. */
int dpctl_events_missing(const char *what);

/* The commands of the group, by file. */
int dpctl_events_tail_run(dpctl_t *self, int argc, char **argv);      /* dpctl_events_tail.c */
int dpctl_events_replay_run(dpctl_t *self, int argc, char **argv);    /* dpctl_events.c */
int dpctl_events_consumers_run(dpctl_t *self, int argc, char **argv); /* dpctl_consumers.c */
int dpctl_events_consumer_run(dpctl_t *self, int argc, char **argv);
int dpctl_events_fetch_run(dpctl_t *self, int argc, char **argv);
int dpctl_events_ack_run(dpctl_t *self, int argc, char **argv);
int dpctl_events_parked_run(dpctl_t *self, int argc, char **argv); /* dpctl_parked.c */
int dpctl_events_replay_parked_run(dpctl_t *self, int argc, char **argv);

#endif
