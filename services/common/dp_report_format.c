#include "dp_report_format.h"

#include <string.h>

static void s_csv_cell(FILE *out, const char *cell)
{
    if (!strpbrk(cell, ",\"\r\n") && cell[0] != ' ' && (!*cell || cell[strlen(cell) - 1] != ' ')) {
        fputs(cell, out);
        return;
    }
    fputc('"', out);
    for (const char *p = cell; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

void dp_report_table_csv(FILE *out, const Dp__ReportTable *table, int with_table_column)
{
    if (with_table_column)
        fputs("table,", out);
    for (size_t c = 0; c < table->n_columns; c++) {
        if (c)
            fputc(',', out);
        s_csv_cell(out, table->columns[c]);
    }
    fputs("\r\n", out);
    for (size_t r = 0; r < table->n_rows; r++) {
        if (with_table_column) {
            s_csv_cell(out, table->name);
            fputc(',', out);
        }
        for (size_t c = 0; c < table->rows[r]->n_cells; c++) {
            if (c)
                fputc(',', out);
            s_csv_cell(out, table->rows[r]->cells[c]);
        }
        fputs("\r\n", out);
    }
}

int dp_report_csv(FILE *out, const Dp__Report *report, const char *only)
{
    int printed = 0;
    for (size_t t = 0; t < report->n_tables; t++) {
        const Dp__ReportTable *table = report->tables[t];
        if (only && strcmp(table->name, only) != 0)
            continue;
        if (printed++)
            fputs("\r\n", out);
        dp_report_table_csv(out, table, only == NULL);
    }
    return only && !printed ? -1 : 0;
}

json_t *dp_report_json(const Dp__Report *report)
{
    json_t *tables = json_array();
    for (size_t t = 0; tables && t < report->n_tables; t++) {
        const Dp__ReportTable *table = report->tables[t];
        json_t *columns = json_array(), *rows = json_array();
        for (size_t c = 0; c < table->n_columns; c++)
            json_array_append_new(columns, json_string(table->columns[c]));
        for (size_t r = 0; r < table->n_rows; r++) {
            json_t *row = json_object();
            for (size_t c = 0; c < table->n_columns && c < table->rows[r]->n_cells; c++)
                json_object_set_new(row, table->columns[c], json_string(table->rows[r]->cells[c]));
            json_array_append_new(rows, row);
        }
        json_array_append_new(tables,
                              json_pack("{s:s, s:s, s:o, s:o}", "name", table->name, "title",
                                        table->title, "columns", columns, "rows", rows));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "name", report->name, "title",
                     report->title, "as_of", report->as_of, "period_from", report->period_from,
                     "period_to", report->period_to, "generated_at", report->generated_at, "tables",
                     tables);
}
