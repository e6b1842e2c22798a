#include "report_dashboard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_build.h"

enum {
    CHART_WIDTH = 640,
    CHART_HEIGHT = 260,
    MARGIN_LEFT = 48,
    MARGIN_BOTTOM = 40,
    MARGIN_TOP = 16
};

static void s_escape(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++)
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*p, out);
        }
}

static int s_column(const Dp__ReportTable *table, const char *name)
{
    for (size_t c = 0; c < table->n_columns; c++)
        if (strcmp(table->columns[c], name) == 0)
            return (int)c;
    return -1;
}

static double s_number(const Dp__ReportTable *table, size_t row, int column)
{
    if (column < 0 || row >= table->n_rows || (size_t)column >= table->rows[row]->n_cells)
        return 0;
    return atof(table->rows[row]->cells[column]);
}

/* A round top for an axis: 1, 2 or 5 times a power of ten. */
static double s_axis_top(double largest)
{
    if (largest <= 0)
        return 1;
    double power = pow(10, floor(log10(largest)));
    for (int step = 1; step <= 10; step *= 2) {
        double top = (step == 4 ? 5 : step) * power;
        if (top >= largest)
            return top;
    }
    return 10 * power;
}

static void s_axes(FILE *out, double top, const char *unit)
{
    int plot_height = CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    for (int i = 0; i <= 4; i++) {
        double y = MARGIN_TOP + plot_height - plot_height * i / 4.0;
        fprintf(out,
                "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                MARGIN_LEFT, y, CHART_WIDTH - 8, y, MARGIN_LEFT - 6, y + 4, top * i / 4.0);
    }
    fprintf(out, "<text class=\"unit\" x=\"4\" y=\"12\">");
    s_escape(out, unit);
    fprintf(out, "</text>\n");
}

static void s_open_chart(FILE *out, const char *id, const char *title)
{
    fprintf(out, "<figure><figcaption>");
    s_escape(out, title);
    fprintf(out,
            "</figcaption>\n<svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
            "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n",
            id, CHART_WIDTH, CHART_HEIGHT, CHART_WIDTH, CHART_HEIGHT);
}

static void s_empty(FILE *out)
{
    fprintf(out, "<text class=\"empty\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">no data</text>\n",
            CHART_WIDTH / 2, CHART_HEIGHT / 2);
}

/* Bars of one numeric column against a label column. */
static void s_bar_chart(FILE *out, const char *id, const char *title, const Dp__ReportTable *table,
                        const char *label_column, const char *value_column, const char *unit)
{
    s_open_chart(out, id, title);
    int label = table ? s_column(table, label_column) : -1;
    int value = table ? s_column(table, value_column) : -1;
    if (!table || table->n_rows == 0 || label < 0 || value < 0)
        s_empty(out);
    else {
        double largest = 0;
        for (size_t r = 0; r < table->n_rows; r++)
            largest = fmax(largest, s_number(table, r, value));
        double top = s_axis_top(largest);
        s_axes(out, top, unit);
        int plot_width = CHART_WIDTH - MARGIN_LEFT - 8;
        int plot_height = CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
        double slot = (double)plot_width / (double)table->n_rows;
        for (size_t r = 0; r < table->n_rows; r++) {
            double v = s_number(table, r, value);
            double height = plot_height * v / top;
            double x = MARGIN_LEFT + slot * (double)r + slot * 0.15;
            fprintf(out,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                    "<title>",
                    x, MARGIN_TOP + plot_height - height, slot * 0.7, height);
            s_escape(out, table->rows[r]->cells[label]);
            fprintf(out, ": %g</title></rect>\n", v);
            fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
                    x + slot * 0.35, CHART_HEIGHT - MARGIN_BOTTOM + 16);
            s_escape(out, table->rows[r]->cells[label]);
            fprintf(out, "</text>\n");
        }
    }
    fprintf(out, "</svg></figure>\n");
}

/* Lines of one or two numeric columns over the rows in order. */
static void s_line_chart(FILE *out, const char *id, const char *title, const Dp__ReportTable *table,
                         const char *label_column, const char *const *value_columns, size_t series,
                         const char *unit)
{
    s_open_chart(out, id, title);
    int label = table ? s_column(table, label_column) : -1;
    if (!table || table->n_rows == 0 || label < 0)
        s_empty(out);
    else {
        double largest = 0;
        for (size_t s = 0; s < series; s++)
            for (size_t r = 0; r < table->n_rows; r++)
                largest = fmax(largest, s_number(table, r, s_column(table, value_columns[s])));
        double top = s_axis_top(largest);
        s_axes(out, top, unit);
        int plot_width = CHART_WIDTH - MARGIN_LEFT - 8;
        int plot_height = CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
        double step = table->n_rows > 1 ? (double)plot_width / (double)(table->n_rows - 1) : 0;
        for (size_t s = 0; s < series; s++) {
            int value = s_column(table, value_columns[s]);
            fprintf(out, "<polyline class=\"line series%zu\" points=\"", s);
            for (size_t r = 0; r < table->n_rows; r++) {
                /* An empty cell is no figure (e.g. no answer that week), not zero. */
                if (value < 0 || (size_t)value >= table->rows[r]->n_cells ||
                    !*table->rows[r]->cells[value])
                    continue;
                fprintf(out, "%.1f,%.1f ", MARGIN_LEFT + step * (double)r,
                        MARGIN_TOP + plot_height - plot_height * s_number(table, r, value) / top);
            }
            fprintf(out, "\"><title>");
            s_escape(out, value_columns[s]);
            fprintf(out, "</title></polyline>\n");
            fprintf(out, "<text class=\"legend series%zu\" x=\"%d\" y=\"%d\">", s,
                    MARGIN_LEFT + 10 + (int)s * 220, MARGIN_TOP + 12);
            s_escape(out, value_columns[s]);
            fprintf(out, "</text>\n");
        }
        size_t every = table->n_rows / 8 + 1;
        for (size_t r = 0; r < table->n_rows; r += every) {
            fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
                    MARGIN_LEFT + step * (double)r, CHART_HEIGHT - MARGIN_BOTTOM + 16);
            s_escape(out, table->rows[r]->cells[label]);
            fprintf(out, "</text>\n");
        }
    }
    fprintf(out, "</svg></figure>\n");
}

/* Forms down, areas across, the count as the cell's shade. */
static void s_heat_map(FILE *out, const Dp__ReportTable *table)
{
    s_open_chart(out, "chart-areas-forms", "Engagements: areas x forms");
    if (!table || table->n_rows == 0)
        s_empty(out);
    else {
        /* Rows come ordered by form, then area. */
        size_t areas = 0;
        while (areas < table->n_rows &&
               strcmp(table->rows[areas]->cells[0], table->rows[0]->cells[0]) == 0)
            areas++;
        size_t forms = table->n_rows / areas;
        double largest = 0;
        for (size_t r = 0; r < table->n_rows; r++)
            largest = fmax(largest, s_number(table, r, 2));
        int left = 110, top_margin = 70;
        double cell_width = (double)(CHART_WIDTH - left - 8) / (double)areas;
        double cell_height = (double)(CHART_HEIGHT - top_margin - 8) / (double)forms;
        for (size_t a = 0; a < areas; a++) {
            double x = left + cell_width * ((double)a + 0.5);
            fprintf(out, "<text class=\"tick\" transform=\"translate(%.1f,%d) rotate(-40)\">", x,
                    top_margin - 6);
            s_escape(out, table->rows[a]->cells[1]);
            fprintf(out, "</text>\n");
        }
        for (size_t f = 0; f < forms; f++) {
            fprintf(out, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", left - 6,
                    top_margin + cell_height * ((double)f + 0.6));
            s_escape(out, table->rows[f * areas]->cells[0]);
            fprintf(out, "</text>\n");
            for (size_t a = 0; a < areas; a++) {
                double v = s_number(table, f * areas + a, 2);
                double shade = largest > 0 ? v / largest : 0;
                fprintf(out,
                        "<rect class=\"cell\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"rgb(%d,%d,%d)\"><title>",
                        left + cell_width * (double)a, top_margin + cell_height * (double)f,
                        cell_width - 2, cell_height - 2, (int)(235 - 200 * shade),
                        (int)(240 - 140 * shade), (int)(250 - 60 * shade));
                s_escape(out, table->rows[f * areas + a]->cells[0]);
                fputs(" / ", out);
                s_escape(out, table->rows[f * areas + a]->cells[1]);
                fprintf(out, ": %g</title></rect>\n", v);
            }
        }
    }
    fprintf(out, "</svg></figure>\n");
}

static void s_table(FILE *out, const char *report, const Dp__ReportTable *table)
{
    if (!table)
        return;
    fprintf(out, "<table id=\"table-%s-%s\"><caption>", report, table->name);
    s_escape(out, table->title);
    fprintf(out, "</caption>\n<thead><tr>");
    for (size_t c = 0; c < table->n_columns; c++) {
        fputs("<th>", out);
        s_escape(out, table->columns[c]);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (size_t r = 0; r < table->n_rows; r++) {
        fputs("<tr>", out);
        for (size_t c = 0; c < table->rows[r]->n_cells; c++) {
            fputs("<td>", out);
            s_escape(out, table->rows[r]->cells[c]);
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static void s_links(FILE *out, const char *report)
{
    fprintf(out,
            "<p class=\"exports\">Figures: <a href=\"/reports/%s.csv\">CSV</a> "
            "<a href=\"/reports/%s.json\">JSON</a></p>\n",
            report, report);
}

static const char *s_style =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;"
    "max-width:1400px;color:#1d2733;background:#fff}"
    "h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:2px solid #0b4f8a}"
    ".meta{color:#5a6675}section{display:flex;flex-wrap:wrap;gap:2rem}"
    "figure{margin:0}figcaption{font-weight:600;margin-bottom:.3rem}"
    ".chart{background:#f7f9fc;border:1px solid #dde3ea}"
    ".grid{stroke:#dde3ea}.tick,.unit,.legend,.empty{font-size:11px;fill:#5a6675}"
    ".bar{fill:#0b4f8a}.line{fill:none;stroke-width:2.5}.series0{stroke:#0b4f8a;fill:#0b4f8a}"
    ".series1{stroke:#d9822b;fill:#d9822b}polyline.series0,polyline.series1{fill:none}"
    "table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}"
    "caption{text-align:left;font-weight:600;padding:.3rem 0}"
    "th,td{border:1px solid #dde3ea;padding:.25rem .6rem;text-align:left}"
    "th{background:#eef2f7}tbody tr:nth-child(even){background:#f9fbfd}";

char *report_dashboard_html(const Dp__Report *overview, const Dp__Report *cooperation,
                            const Dp__Report *enquiries, int links)
{
    char *html = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&html, &size);
    if (!out)
        return NULL;
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Digital Partnership - dashboard</title><style>%s</style></head><body>\n",
            s_style);
    fprintf(out,
            "<h1>Council of Europe Digital Partnership</h1>\n<p class=\"meta\">Partners as of ");
    s_escape(out, overview->as_of);
    fprintf(out, "; enquiries from ");
    s_escape(out, enquiries->period_from);
    fprintf(out, " to ");
    s_escape(out, enquiries->period_to);
    fprintf(out, "; generated ");
    s_escape(out, overview->generated_at);
    fprintf(out, "</p>\n");

    fprintf(out, "<h2>Partners</h2>\n<section>\n");
    s_bar_chart(out, "chart-partners-by-year", "Partners joining, by year",
                report_find_table(overview, "by_year"), "Year", "Joined", "partners");
    s_bar_chart(out, "chart-partners-total", "Partners at the end of each year",
                report_find_table(overview, "by_year"), "Year", "Partners at year end", "partners");
    fprintf(out, "</section>\n");
    s_table(out, "overview", report_find_table(overview, "by_kind"));
    s_table(out, "overview", report_find_table(overview, "by_wave"));
    if (links)
        s_links(out, "overview");

    fprintf(out, "<h2>Enquiries</h2>\n<section>\n");
    const char *received[] = {"Received", "From partners"};
    s_line_chart(out, "chart-enquiries-per-period", "Enquiries received",
                 report_find_table(enquiries, "per_period"), "Period from", received, 2,
                 "enquiries");
    const char *times[] = {"Median first response (h)", "p90 first response (h)"};
    s_line_chart(out, "chart-response-times", "First-response time",
                 report_find_table(enquiries, "response_times_per_period"), "Period from", times, 2,
                 "hours");
    s_bar_chart(out, "chart-backlog", "Backlog by age", report_find_table(enquiries, "backlog"),
                "Age", "Open enquiries", "enquiries");
    fprintf(out, "</section>\n");
    static const char *enquiry_tables[] = {"response_times", "by_status", "by_kind", "by_source",
                                           "by_sender"};
    for (size_t i = 0; i < sizeof enquiry_tables / sizeof *enquiry_tables; i++)
        s_table(out, "enquiries", report_find_table(enquiries, enquiry_tables[i]));
    if (links)
        s_links(out, "enquiries");

    fprintf(out, "<h2>Cooperation</h2>\n<section>\n");
    s_heat_map(out, report_find_table(cooperation, "engagements_by_form_area"));
    fprintf(out, "</section>\n");
    s_table(out, "cooperation", report_find_table(cooperation, "areas"));
    s_table(out, "cooperation", report_find_table(cooperation, "partners_by_area"));
    if (links)
        s_links(out, "cooperation");
    fprintf(out, "</body></html>\n");
    if (fclose(out) != 0) {
        free(html);
        return NULL;
    }
    return html;
}
