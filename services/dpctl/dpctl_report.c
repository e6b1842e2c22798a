/* dpctl report: the reporting service's reports ($DP_REPORT_ENDPOINT) as
   aligned tables for people, or every row as CSV or JSON through the same
   formatting the service's HTTP exports use (dp_report_format.h); and the
   dashboard page as one self-contained HTML file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_report_format.h"
#include "dpctl.h"
#include "dpctl_args.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"
#include "report.pb-c.h"

/* Rows a table shows in the table format unless --rows says otherwise. */
enum { S_DEFAULT_ROWS = 30 };
/* A cell cut to fit the terminal keeps at least this many characters. */
enum { S_MIN_CUT_WIDTH = 20 };

typedef enum { S_FORMAT_TABLE, S_FORMAT_CSV, S_FORMAT_JSON } s_format_t;

#define S_OUTPUT_OPTIONS                                                                           \
    {"format", DPCTL_TEXT, "table|csv|json",                                                       \
     "tables for people (default), or every row as CSV or JSON (--json: json)"},                   \
        {"table", DPCTL_TEXT, "NAME", "only the table NAME (the names: --format json)"},           \
    {                                                                                              \
        "rows", DPCTL_NUMBER, "N", "rows a table shows in the table format (default 30; 0: all)"   \
    }

#define S_AS_OF_OPTION                                                                             \
    {                                                                                              \
        "as-of", DPCTL_DATE, "DATE", "the figures as they stood on DATE (default: today)"          \
    }

/* ---- output ---------------------------------------------------------------------- */

/* The output format from --format and --json; 0, or a usage error. */
static int s_format(const dpctl_t *self, const dpctl_args_t *args, s_format_t *format)
{
    static const char *names[] = {"table", "csv", "json"};
    const char *text = dpctl_args_text(args, "format", NULL);
    *format = self->json ? S_FORMAT_JSON : S_FORMAT_TABLE;
    if (!text)
        return 0;
    size_t i = 0;
    while (i < 3 && strcmp(text, names[i]) != 0)
        i++;
    if (i == 3)
        return dpctl_args_error(args, "--format must be table, csv or json, not '%s'", text);
    if (self->json && i != S_FORMAT_JSON)
        return dpctl_args_error(args, "--json and --format %s ask for different output", text);
    *format = (s_format_t)i;
    return 0;
}

/* The table called name, or NULL after saying which tables there are. */
static const Dp__ReportTable *s_find_table(const Dp__Report *report, const char *name)
{
    for (size_t i = 0; i < report->n_tables; i++)
        if (strcmp(report->tables[i]->name, name) == 0)
            return report->tables[i];
    fprintf(stderr, "dpctl: the %s report has no table '%s'; its tables are:", report->name, name);
    for (size_t i = 0; i < report->n_tables; i++)
        fprintf(stderr, "%s %s", i ? "," : "", report->tables[i]->name);
    fprintf(stderr, "\n");
    return NULL;
}

/* The column with the longest cell among the header and the first `rows`,
   when cutting it makes a row fit in `width`; otherwise -1 (a wide matrix
   stays whole, and the terminal wraps it). Widths are counted in bytes. */
static long s_column_to_cut(const Dp__ReportTable *table, size_t rows, size_t width)
{
    size_t total = 0, widest = 0;
    long column = -1;
    for (size_t c = 0; c < table->n_columns; c++) {
        size_t column_width = strlen(table->columns[c]);
        for (size_t r = 0; r < rows; r++)
            if (c < table->rows[r]->n_cells && strlen(table->rows[r]->cells[c]) > column_width)
                column_width = strlen(table->rows[r]->cells[c]);
        total += column_width + 2;
        if (column_width > widest) {
            widest = column_width;
            column = (long)c;
        }
    }
    return total - widest - 2 + S_MIN_CUT_WIDTH <= width ? column : -1;
}

/* Prints the table's title, then at most `limit` rows (0: all), aligned. */
static int s_print_table(const Dp__ReportTable *table, size_t limit)
{
    printf("%s\n", table->title);
    if (table->n_columns == 0) {
        printf("(no columns)\n");
        return DPCTL_EXIT_OK;
    }
    dpctl_table_t *out = dpctl_table_new((const char *const *)table->columns, table->n_columns);
    const char **cells = calloc(table->n_columns, sizeof *cells);
    int outcome = out && cells ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    size_t shown = limit && limit < table->n_rows ? limit : table->n_rows;
    for (size_t r = 0; outcome == DPCTL_EXIT_OK && r < shown; r++) {
        const Dp__ReportRow *row = table->rows[r];
        for (size_t c = 0; c < table->n_columns; c++)
            cells[c] = c < row->n_cells ? row->cells[c] : "";
        if (dpctl_table_add(out, cells) != 0)
            outcome = DPCTL_EXIT_FAILURE;
    }
    if (outcome == DPCTL_EXIT_OK) {
        dpctl_table_align_numbers(out);
        long cut = s_column_to_cut(table, shown, dpctl_output_width());
        if (cut >= 0)
            dpctl_table_fit(out, (size_t)cut, dpctl_output_width(), S_MIN_CUT_WIDTH);
        dpctl_table_print(out, stdout);
        if (table->n_rows == 0)
            printf("(no rows)\n");
        if (shown < table->n_rows)
            printf("... %zu more row%s (--rows 0 shows all; --format csv exports them)\n",
                   table->n_rows - shown, table->n_rows - shown == 1 ? "" : "s");
    }
    free(cells);
    dpctl_table_destroy(&out);
    return outcome;
}

/* The report's title and dates, then each table (or only `only`). */
static int s_print_tables(const Dp__Report *report, const Dp__ReportTable *only, size_t limit)
{
    printf("%s\n", report->title);
    if (*report->as_of)
        printf("as of %s", report->as_of);
    if (*report->period_from || *report->period_to)
        printf("%speriod %s to %s", *report->as_of ? "; " : "", report->period_from,
               report->period_to);
    printf("%sgenerated %s\n", *report->as_of || *report->period_from ? "; " : "",
           report->generated_at);
    int outcome = DPCTL_EXIT_OK;
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < report->n_tables; i++) {
        if (only && report->tables[i] != only)
            continue;
        printf("\n");
        outcome = s_print_table(report->tables[i], limit);
    }
    return outcome;
}

static int s_print_report(const Dp__Report *report, const dpctl_args_t *args, s_format_t format)
{
    const char *name = dpctl_args_text(args, "table", NULL);
    const Dp__ReportTable *only = name ? s_find_table(report, name) : NULL;
    if (name && !only)
        return DPCTL_EXIT_FAILURE;
    if (format == S_FORMAT_TABLE)
        return s_print_tables(report, only,
                              (size_t)dpctl_args_number(args, "rows", S_DEFAULT_ROWS));
    if (format == S_FORMAT_CSV) {
        dp_report_csv(stdout, report, name);
        return fflush(stdout) == 0 ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    }
    /* One table: the same report, holding only that one. */
    Dp__Report one = *report;
    Dp__ReportTable *tables[] = {(Dp__ReportTable *)only};
    if (only) {
        one.n_tables = 1;
        one.tables = tables;
    }
    json_t *document = dp_report_json(&one);
    return dpctl_json_print(&document);
}

/* Checks the output options, asks for the report and prints it. */
static int s_report(dpctl_t *self, const dpctl_args_t *args, const ProtobufCMessage *request)
{
    s_format_t format;
    int outcome = s_format(self, args, &format);
    Dp__ReportReply *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_REPORT, request, &dp__report_reply__descriptor,
                             (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK && !reply->report) {
        fprintf(stderr, "dpctl: the reporting service's reply holds no report\n");
        outcome = DPCTL_EXIT_FAILURE;
    }
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_report(reply->report, args, format);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

/* ---- overview, cooperation, enquiries ------------------------------------------------ */

static const dpctl_option_t s_overview_options[] = {S_AS_OF_OPTION, S_OUTPUT_OPTIONS, {NULL}};

static const dpctl_spec_t s_overview_spec = {
    "report overview",
    "",
    "The partnership as of a date: partners by kind, by joining wave and year, active and "
    "withdrawn, and growth over time.",
    0,
    0,
    s_overview_options};

static const dpctl_option_t s_cooperation_options[] = {
    S_AS_OF_OPTION,
    {"from", DPCTL_DATE, "DATE", "engagements from DATE (default: 2017-11-08, the first wave)"},
    {"to", DPCTL_DATE, "DATE", "engagements up to DATE (default: the as-of date)"},
    S_OUTPUT_OPTIONS,
    {NULL}};

static const dpctl_spec_t s_cooperation_spec = {
    "report cooperation",
    "",
    "Cooperation as of a date: partners by area (declared, and from engagements), and "
    "engagements by form, area and year in a period.",
    0,
    0,
    s_cooperation_options};

static const dpctl_option_t s_enquiries_options[] = {
    {"from", DPCTL_DATE, "DATE", "enquiries received from DATE (default: 90 days before --to)"},
    {"to", DPCTL_DATE, "DATE", "enquiries received up to DATE (default: today)"},
    {"by", DPCTL_CHOICE, NULL, "count per week (default) or per month",
     .choices = &dp__report_granularity__descriptor},
    S_OUTPUT_OPTIONS,
    {NULL}};

static const dpctl_spec_t s_enquiries_spec = {
    "report enquiries",
    "",
    "Enquiries received in a period, side by side with the same period a year earlier: per "
    "week or month, by kind, source and area, and first-response times.",
    0,
    0,
    s_enquiries_options};

/* The three reports differ only in their options and request type: the
   request's fields as_of, period_from, period_to and granularity (those it
   has) come from --as-of, --from, --to and --by. */
static const struct {
    const char *name;                               /* the command's word */
    const dpctl_spec_t *spec;                       /* its options */
    const ProtobufCMessageDescriptor *request_type; /* what it asks the service */
} s_reports[] = {
    {"overview", &s_overview_spec, &dp__overview_report_request__descriptor},
    {"cooperation", &s_cooperation_spec, &dp__cooperation_report_request__descriptor},
    {"enquiries", &s_enquiries_spec, &dp__enquiries_report_request__descriptor},
};

/* The request's field, or NULL when its type has none of that name. */
static const ProtobufCFieldDescriptor *s_field(const ProtobufCMessage *request, const char *name)
{
    return protobuf_c_message_descriptor_get_field_by_name(request->descriptor, name);
}

static void s_set_text(ProtobufCMessage *request, const char *field, const dpctl_args_t *args,
                       const char *option)
{
    if (s_field(request, field))
        dpctl_field_set_string(request, field, dpctl_args_text(args, option, ""));
}

/* Runs the report named by argv[0] (one of s_reports). */
static int s_report_run(dpctl_t *self, int argc, char **argv)
{
    size_t kind = 0;
    while (kind + 1 < sizeof s_reports / sizeof s_reports[0] &&
           strcmp(s_reports[kind].name, argv[0]) != 0)
        kind++;
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(s_reports[kind].spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    ProtobufCMessage *request = dpctl_message_new(s_reports[kind].request_type);
    outcome = request ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    if (request) {
        s_set_text(request, "as_of", args, "as-of");
        s_set_text(request, "period_from", args, "from");
        s_set_text(request, "period_to", args, "to");
        const ProtobufCFieldDescriptor *granularity = s_field(request, "granularity");
        if (granularity)
            *(int *)((char *)request + granularity->offset) = dpctl_args_choice(args, "by", 0);
        outcome = s_report(self, args, request);
    }
    free(request);
    dpctl_args_destroy(&args);
    return outcome;
}

/* ---- html ------------------------------------------------------------------------ */

static const dpctl_option_t s_html_options[] = {
    S_AS_OF_OPTION,
    {"from", DPCTL_DATE, "DATE", "enquiries from DATE (default: 90 days before --to)"},
    {"to", DPCTL_DATE, "DATE", "the end of the periods (default: the as-of date)"},
    {NULL}};

static const dpctl_spec_t s_html_spec = {
    "report html",
    "",
    "Write the dashboard page to standard output: one self-contained HTML file with the "
    "overview, cooperation and enquiry reports and their charts, e.g. "
    "'dpctl report html > report.html'.",
    0,
    0,
    s_html_options};

static int s_html(dpctl_t *self, dpctl_args_t *args)
{
    Dp__DashboardRequest request = DP__DASHBOARD_REQUEST__INIT;
    request.as_of = (char *)dpctl_args_text(args, "as-of", "");
    request.period_from = (char *)dpctl_args_text(args, "from", "");
    request.period_to = (char *)dpctl_args_text(args, "to", "");
    Dp__DashboardReply *reply = NULL;
    int outcome = dpctl_call(self, DPCTL_REPORT, &request.base, &dp__dashboard_reply__descriptor,
                             (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK && self->json)
        outcome = dpctl_json_print_message(&reply->base);
    else if (outcome == DPCTL_EXIT_OK && (fputs(reply->html, stdout) == EOF || fflush(stdout))) {
        fprintf(stderr, "dpctl: could not write the page\n");
        outcome = DPCTL_EXIT_FAILURE;
    }
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

static int s_html_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_html_spec, argc, argv, s_html);
}

static const dpctl_command_t s_commands[] = {
    {"overview", "partners by kind, wave and year; growth", s_report_run},
    {"cooperation", "partners by area; engagements by form, area and year", s_report_run},
    {"enquiries", "enquiries per week or month, a year earlier alongside", s_report_run},
    {"html", "the dashboard page as one HTML file, on stdout", s_html_run},
};

static const dpctl_group_t s_group = {
    "report",
    "Reports of the reporting service ($DP_REPORT_ENDPOINT): tables for people, CSV or JSON "
    "for programs, and the dashboard page.",
    s_commands, sizeof s_commands / sizeof s_commands[0]};

int dpctl_report_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}
