#include "fault_common.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dp_codec.h"

static const char *s_names[] = {"Maria Rossi",  "Jan Kowalski",       "Aoife Byrne",
                                "Lukas Meier",  "Sofia Papadopoulou", "Émilie Laurent",
                                "Mehmet Yılmaz"};
static const char *s_organisations[] = {"Università di Bologna", "Fundacja Cyfrowa", "",
                                        "Digital Rights Ireland", "Stadt Zürich"};
static const char *s_countries[] = {"IT", "PL", "IE", "CH", "GR", "FR", "TR"};
static const char *s_languages[] = {"it", "pl", "en", "de-CH", "el", "fr", "tr"};
static const char *s_domains[] = {"unibo.it", "fundacja.pl", "example.org", "zuerich.ch",
                                  "example.gr"};
/* The kinds every database has from its migrations. */
static const char *s_kinds[] = {"information-request", "cooperation-proposal",
                                "event-participation", "membership-application", "media"};
static const char *s_subjects[] = {
    "Question about the data protection training for municipalities",
    "Proposal: joint workshop on digital literacy in schools",
    "Participation in the conference on artificial intelligence and human rights",
    "Request for materials on online child protection",
    "Interview request about the fight against cybercrime"};
static const char *s_bodies[] = {
    "Dear Sir or Madam, does your programme offer training for local authorities? Kind regards.",
    "Hello, we work with teachers and would welcome a partnership. Who should we contact?",
    "Good afternoon, may two colleagues join the next event remotely? Thanks in advance."};

#define PICK(table, n) (table[(n) % (sizeof table / sizeof *table)])

void fault_submission_init(fault_submission_t *self, const char *source, const char *tag,
                           uint64_t number, const char *received_at)
{
    snprintf(self->key, sizeof self->key, "%s-%" PRIu64, tag, number);
    snprintf(self->email, sizeof self->email, "sender.%s.%" PRIu64 "@%s", tag, number,
             PICK(s_domains, number / 3));
    snprintf(self->received_at, sizeof self->received_at, "%s", received_at);
    Dp__EnquirySubmission *s = &self->submission;
    dp__enquiry_submission__init(s);
    s->source = (char *)source;
    s->idempotency_key = self->key;
    s->sender_name = (char *)PICK(s_names, number);
    s->email = self->email;
    s->organisation = (char *)PICK(s_organisations, number);
    s->country = (char *)PICK(s_countries, number);
    s->kind = (char *)PICK(s_kinds, number);
    s->subject = (char *)PICK(s_subjects, number / 2);
    s->body = (char *)PICK(s_bodies, number);
    s->language = (char *)PICK(s_languages, number);
    s->received_at = self->received_at;
    dp__submit_enquiry_request__init(&self->request);
    self->request.enquiry = s;
}

void fault_now_rfc3339(char out[32])
{
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

int64_t fault_now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static volatile sig_atomic_t s_stop = 0;

static void s_on_signal(int signal_number)
{
    (void)signal_number;
    s_stop = 1;
}

void fault_stop_on_signals(void)
{
    zsys_handler_set(NULL);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
}

dp_config_t *fault_config_load(const char *program, const char *summary,
                               const dp_setting_t *settings, size_t count, int argc, char **argv,
                               int *exit_code)
{
    *exit_code = 2;
    dp_config_t *config = dp_config_new(program, summary, settings, count);
    if (!config)
        return NULL;
    int loaded = dp_config_load(config, argc, argv);
    if (loaded != 0) {
        dp_config_destroy(&config);
        *exit_code = loaded > 0 ? 0 : 2;
        return NULL;
    }
    fault_stop_on_signals();
    zsys_init();
    *exit_code = 0;
    return config;
}

bool fault_stopping(void)
{
    return s_stop != 0;
}

uint64_t fault_random(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}
