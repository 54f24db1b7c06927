//! Spreadsheets of the base data sets (people, houses, organisations): one description of a
//! data set's columns serves its template (xlsx with drop-downs, or CSV), the reading of an
//! uploaded file with its header check, the row-level import report and the export.

use crate::audit::{self, Audit};
use crate::auth::CurrentUser;
use crate::catalog::Dicts;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::Multipart;
use axum::http::header;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// One column of a data set's template.
pub struct Col {
    pub header: &'static str,
    pub field: &'static str,
    pub dict: Option<&'static str>,
    pub required: bool,
}

pub const fn col(
    header: &'static str,
    field: &'static str,
    dict: Option<&'static str>,
    required: bool,
) -> Col {
    Col {
        header,
        field,
        dict,
        required,
    }
}

/// A data set as a spreadsheet: its sheet (and file) name, columns and one example row.
pub struct Sheet {
    pub name: &'static str,
    pub columns: &'static [Col],
    pub example: &'static [&'static str],
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// xlsx (default) or csv
    pub format: Option<String>,
    /// Export only: area subtree (default the caller's).
    pub area: Option<String>,
}

impl FormatQuery {
    pub fn is_csv(&self) -> AppResult<bool> {
        match self.format.as_deref().unwrap_or("xlsx") {
            "xlsx" => Ok(false),
            "csv" => Ok(true),
            _ => Err(AppError::validation("format", "格式只能是 xlsx 或 csv")),
        }
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// strict (default: all or nothing) or valid_only
    pub mode: Option<String>,
}

impl ImportQuery {
    pub fn is_strict(&self) -> AppResult<bool> {
        match self.mode.as_deref().unwrap_or("strict") {
            "strict" => Ok(true),
            "valid_only" => Ok(false),
            _ => Err(AppError::validation(
                "mode",
                "导入方式只能是 strict（全部或全不）或 valid_only（只导入正确的行）",
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowIssue {
    /// Spreadsheet row number (the header is row 1).
    pub row: usize,
    /// Column header.
    pub column: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportReport {
    pub mode: String,
    /// Data rows read.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Whether anything was written.
    pub written: bool,
    /// Errors (the first 1,000), row by row.
    pub errors: Vec<RowIssue>,
    /// Warnings that did not stop a row (the first 1,000).
    pub warnings: Vec<RowIssue>,
    pub errors_total: usize,
}

/// Most data rows of one import of a small data set (houses, organisations), which is held in
/// memory and stored in one transaction.
pub const MAX_SMALL_ROWS: usize = 100_000;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub fn attachment(name: &str, mime: &str, body: Body) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename*=UTF-8''{}", urlencode(name)),
        )
        .body(body)
        .expect("static headers")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Rows read from a file: the header first; a row that cannot be read is its message.
pub type Rows = Box<dyn Iterator<Item = Result<Vec<String>, String>> + Send>;

impl Sheet {
    /// The import template: xlsx (Chinese headers, a drop-down on each coded column fed
    /// from a hidden 代码表 sheet, one example row) or CSV (UTF-8 with BOM).
    pub fn template(&self, dicts: &Dicts, csv: bool) -> AppResult<Response> {
        if csv {
            let mut s = String::from("\u{feff}");
            s.push_str(&self.headers().join(","));
            s.push_str("\r\n");
            return Ok(attachment(
                &format!("{}导入模板.csv", self.name),
                "text/csv; charset=utf-8",
                Body::from(s),
            ));
        }
        let bytes = self.template_xlsx(dicts)?;
        Ok(attachment(
            &format!("{}导入模板.xlsx", self.name),
            XLSX,
            Body::from(bytes),
        ))
    }

    fn headers(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.header).collect()
    }

    pub fn template_xlsx(&self, dicts: &Dicts) -> anyhow::Result<Vec<u8>> {
        use rust_xlsxwriter::{DataValidation, Format, Formula, Workbook};
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let mut lists: Vec<(usize, Vec<String>)> = Vec::new();
        {
            let ws = wb.add_worksheet();
            ws.set_name(self.name)?;
            for (i, c) in self.columns.iter().enumerate() {
                let h = if c.required {
                    format!("{}*", c.header)
                } else {
                    c.header.to_owned()
                };
                ws.write_string_with_format(0, i as u16, &h, &bold)?;
                ws.set_column_width(i as u16, if c.field == "address" { 40 } else { 14 })?;
                if let Some(d) = c.dict {
                    lists.push((i, dicts.labels(d)));
                }
            }
            for (i, v) in self.example.iter().enumerate() {
                ws.write_string(1, i as u16, *v)?;
            }
            for (k, (i, labels)) in lists.iter().enumerate() {
                let n = labels.len().max(1);
                let letter = (b'A' + k as u8) as char;
                let dv = DataValidation::new()
                    .allow_list_formula(Formula::new(format!("=代码表!${letter}$1:${letter}${n}")));
                ws.add_data_validation(1, *i as u16, 100_000, *i as u16, &dv)?;
            }
        }
        let codes = wb.add_worksheet();
        codes.set_name("代码表")?;
        for (k, (_, labels)) in lists.iter().enumerate() {
            for (r, l) in labels.iter().enumerate() {
                codes.write_string(r as u32, k as u16, l)?;
            }
        }
        codes.set_hidden(true);
        Ok(wb.save_to_buffer()?)
    }

    /// Rows of an uploaded file, the header first. xlsx cells come as text; the xlsx must
    /// hold a sheet named after the data set.
    pub fn open_rows(&self, path: &std::path::Path, csv: bool) -> AppResult<Rows> {
        if csv {
            let f = std::fs::File::open(path).map_err(|e| AppError::Internal(e.into()))?;
            let r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(std::io::BufReader::with_capacity(1 << 20, f));
            return Ok(Box::new(r.into_records().map(|r| {
                r.map(|rec| {
                    rec.iter()
                        .map(|s| s.trim_start_matches('\u{feff}').to_owned())
                        .collect()
                })
                .map_err(|e| format!("CSV 格式错误：{e}"))
            })));
        }
        use calamine::{Reader, Xlsx, open_workbook};
        let mut wb: Xlsx<_> = open_workbook(path).map_err(|_| {
            AppError::InvalidImportFile("不是有效的 xlsx 文件（应为 Excel 2007 及以上格式）".into())
        })?;
        if wb.sheet_names().is_empty() {
            return Err(AppError::InvalidImportFile("文件中没有工作表".into()));
        }
        if !wb.sheet_names().iter().any(|n| n == self.name) {
            return Err(AppError::InvalidImportFile(format!(
                "缺少名为“{}”的工作表，请使用下载的模板",
                self.name
            )));
        }
        let range = wb
            .worksheet_range(self.name)
            .map_err(|e| AppError::InvalidImportFile(format!("工作表无法读取：{e}")))?;
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                        // Excel serial days from 1899-12-30.
                        calamine::Data::DateTime(d) => {
                            chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
                                .and_then(|e| {
                                    e.checked_add_days(
                                        chrono::Days::new(d.as_f64().max(0.0) as u64),
                                    )
                                })
                                .map(|t| t.format("%Y-%m-%d").to_string())
                                .unwrap_or_default()
                        }
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        Ok(Box::new(rows.into_iter().map(Ok)))
    }

    /// Where each column sits in the file; unknown headers or missing required columns are
    /// errors of the file.
    pub fn header_map(&self, header: &[String]) -> AppResult<Vec<Option<usize>>> {
        let clean: Vec<String> = header
            .iter()
            .map(|h| h.trim().trim_end_matches('*').trim().to_owned())
            .collect();
        if let Some(unknown) = clean
            .iter()
            .find(|h| !h.is_empty() && !self.columns.iter().any(|c| c.header == h.as_str()))
        {
            return Err(AppError::InvalidImportFile(format!(
                "表头“{unknown}”不是模板中的列，请使用下载的模板"
            )));
        }
        let map: Vec<Option<usize>> = self
            .columns
            .iter()
            .map(|c| clean.iter().position(|h| h == c.header))
            .collect();
        let missing: Vec<&str> = self
            .columns
            .iter()
            .zip(&map)
            .filter(|(c, m)| c.required && m.is_none())
            .map(|(c, _)| c.header)
            .collect();
        if !missing.is_empty() {
            return Err(AppError::InvalidImportFile(format!(
                "缺少必填列：{}",
                missing.join("、")
            )));
        }
        Ok(map)
    }

    /// The column header of a field (the field itself when it has no column).
    pub fn header_of(&self, field: &str) -> String {
        self.columns
            .iter()
            .find(|c| c.field == field)
            .map(|c| c.header.to_owned())
            .unwrap_or_else(|| field.to_owned())
    }

    /// Every data row of a small file (at most [`MAX_SMALL_ROWS`]) as (row number, field → trimmed text, empty cells
    /// left out); a row that cannot be read becomes an error of the report.
    fn read_all(
        &self,
        path: &std::path::Path,
        csv: bool,
        report: &mut ImportReport,
    ) -> AppResult<Vec<(usize, HashMap<&'static str, String>)>> {
        let mut rows = self.open_rows(path, csv)?;
        let header = match rows.next() {
            None => return Err(AppError::InvalidImportFile("文件是空的".into())),
            Some(Err(e)) => return Err(AppError::InvalidImportFile(e)),
            Some(Ok(h)) => h,
        };
        let map = self.header_map(&header)?;
        let mut out = Vec::new();
        for (i, r) in rows.enumerate() {
            let rownum = i + 2;
            let cells = match r {
                Ok(c) => c,
                Err(e) => {
                    report.rows += 1;
                    report.failed += 1;
                    report.add_error(rownum, "", "unreadable_row", e);
                    continue;
                }
            };
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            if report.rows == MAX_SMALL_ROWS {
                return Err(AppError::InvalidImportFile(format!(
                    "一个文件最多 {MAX_SMALL_ROWS} 行，请分批导入"
                )));
            }
            report.rows += 1;
            let fields = self
                .columns
                .iter()
                .zip(&map)
                .filter_map(|(c, m)| {
                    let v = cells.get((*m)?)?.trim();
                    (!v.is_empty()).then(|| (c.field, v.to_owned()))
                })
                .collect();
            out.push((rownum, fields));
        }
        Ok(out)
    }

    /// Rows as CSV (streamed) or xlsx, each cell from `cell(row, column)`; coded columns
    /// show their labels.
    pub async fn export<R: Send + Sync + 'static>(
        &'static self,
        dicts: std::sync::Arc<Dicts>,
        rows: Vec<R>,
        cell: impl Fn(&R, &Col) -> Option<String> + Send + Sync + 'static,
        csv: bool,
    ) -> AppResult<Response> {
        let text = move |r: &R, c: &Col| -> String {
            let v = cell(r, c).unwrap_or_default();
            match c.dict {
                Some(d) => dicts.label(d, &v).map(str::to_owned).unwrap_or(v),
                None => v,
            }
        };
        if csv {
            let (txc, mut rxc) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(8);
            tokio::task::spawn_blocking(move || {
                let mut buf = String::from("\u{feff}");
                buf.push_str(&self.headers().join(","));
                buf.push_str("\r\n");
                for r in &rows {
                    let line: Vec<String> = self
                        .columns
                        .iter()
                        .map(|c| csv_escape(&text(r, c)))
                        .collect();
                    buf.push_str(&line.join(","));
                    buf.push_str("\r\n");
                    if buf.len() > 256 * 1024
                        && txc.blocking_send(Ok(std::mem::take(&mut buf))).is_err()
                    {
                        return;
                    }
                }
                let _ = txc.blocking_send(Ok(buf));
            });
            let stream = futures_util::stream::poll_fn(move |cx| rxc.poll_recv(cx));
            return Ok(attachment(
                &format!("{}.csv", self.name),
                "text/csv; charset=utf-8",
                Body::from_stream(stream),
            ));
        }
        let bytes = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            ws.set_name(self.name)?;
            for (i, c) in self.columns.iter().enumerate() {
                ws.write_string(0, i as u16, c.header)?;
            }
            for (k, r) in rows.iter().enumerate() {
                for (i, c) in self.columns.iter().enumerate() {
                    ws.write_string(k as u32 + 1, i as u16, text(r, c))?;
                }
            }
            Ok(wb.save_to_buffer()?)
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
        Ok(attachment(
            &format!("{}.xlsx", self.name),
            XLSX,
            Body::from(bytes),
        ))
    }
}

impl ImportReport {
    pub fn new(strict: bool) -> ImportReport {
        ImportReport {
            mode: if strict { "strict" } else { "valid_only" }.into(),
            ..Default::default()
        }
    }

    pub fn add_error(&mut self, row: usize, column: &str, code: &str, message: impl Into<String>) {
        self.errors_total += 1;
        if self.errors.len() < 1000 {
            self.errors.push(RowIssue {
                row,
                column: column.to_owned(),
                code: code.to_owned(),
                message: message.into(),
            });
        }
    }

    /// A row refused by the checks of the data set: each issue on its column.
    pub fn add_refusal(&mut self, sheet: &Sheet, row: usize, e: &AppError) {
        match e {
            AppError::Invalid(issues) => {
                for i in issues {
                    self.add_error(row, &sheet.header_of(&i.field), &i.code, i.message.clone());
                }
            }
            AppError::Validation { field, message } => {
                self.add_error(row, &sheet.header_of(field), e.code(), message.clone())
            }
            AppError::GridNotFound => {
                self.add_error(row, &sheet.header_of("grid"), e.code(), e.user_message())
            }
            other => self.add_error(row, "", other.code(), other.user_message()),
        }
    }
}

/// Saves the `file` part of an import upload to a temporary file; tells CSV from xlsx by
/// the name and checks that an xlsx is a zip.
pub async fn receive_upload(mp: &mut Multipart) -> AppResult<(tempfile::NamedTempFile, bool)> {
    let tmp = tempfile::NamedTempFile::new().map_err(|e| AppError::Internal(e.into()))?;
    let mut name = String::new();
    let mut got = false;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| AppError::InvalidBody(e.body_text()))?
    {
        if field.name() != Some("file") {
            continue;
        }
        name = field.file_name().unwrap_or_default().to_lowercase();
        let mut f = tokio::fs::File::create(tmp.path())
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        use tokio::io::AsyncWriteExt;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| AppError::InvalidBody(e.body_text()))?
        {
            f.write_all(&chunk)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        f.flush().await.map_err(|e| AppError::Internal(e.into()))?;
        got = true;
    }
    if !got {
        return Err(AppError::validation("file", "请选择要导入的文件"));
    }
    let head = std::fs::read(tmp.path())
        .map(|b| b.get(..4).map(<[u8]>::to_vec))
        .ok()
        .flatten()
        .unwrap_or_default();
    let csv = match (name.rsplit('.').next(), head.starts_with(b"PK\x03\x04")) {
        (Some("csv"), _) => true,
        (Some("xlsx"), true) => false,
        (Some("xlsx"), false) => {
            return Err(AppError::InvalidImportFile(
                "不是有效的 xlsx 文件（文件内容不是 zip）".into(),
            ));
        }
        _ => {
            return Err(AppError::InvalidImportFile(
                "只支持 .xlsx 和 .csv 文件".into(),
            ));
        }
    };
    Ok((tmp, csv))
}

/// A row's fields by name.
pub type Fields = HashMap<&'static str, String>;

/// An import of a small data set (houses, organisations), row by row in one transaction.
/// The caller stores each row between [`Import::savepoint`] and [`Import::settle`]: a
/// refused row is undone alone and reported on its columns; strict mode then writes nothing
/// at all. Audited as a whole besides each record's own row.
pub struct Import {
    pub tx: Tx,
    pub report: ImportReport,
    sheet: &'static Sheet,
    strict: bool,
}

impl Import {
    /// Reads the file (its errors are errors of the file) and opens the transaction.
    pub async fn start(
        state: &AppState,
        sheet: &'static Sheet,
        path: &std::path::Path,
        csv: bool,
        strict: bool,
    ) -> AppResult<(Import, Vec<(usize, Fields)>)> {
        // Reading (an xlsx is unzipped and parsed whole) is blocking work: off the runtime.
        let path = path.to_owned();
        let (report, rows) = tokio::task::spawn_blocking(move || {
            let mut report = ImportReport::new(strict);
            sheet
                .read_all(&path, csv, &mut report)
                .map(|rows| (report, rows))
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
        let tx = state.db.begin().await?;
        Ok((
            Import {
                tx,
                report,
                sheet,
                strict,
            },
            rows,
        ))
    }

    pub async fn savepoint(&mut self) -> AppResult<()> {
        sqlx::query("SAVEPOINT import_row")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Counts row `n`: `None` when it created a record, `Some(changed)` when it matched one;
    /// a refusal undoes the row. A failure of the store ends the import.
    pub async fn settle(&mut self, n: usize, done: AppResult<Option<bool>>) -> AppResult<()> {
        match done {
            Ok(d) => {
                match d {
                    None => self.report.created += 1,
                    Some(true) => self.report.updated += 1,
                    Some(false) => self.report.unchanged += 1,
                }
                sqlx::query("RELEASE SAVEPOINT import_row")
                    .execute(&mut *self.tx)
                    .await?;
            }
            Err(e @ (AppError::Db(_) | AppError::Internal(_))) => return Err(e),
            Err(e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT import_row")
                    .execute(&mut *self.tx)
                    .await?;
                sqlx::query("RELEASE SAVEPOINT import_row")
                    .execute(&mut *self.tx)
                    .await?;
                self.report.failed += 1;
                self.report.add_refusal(self.sheet, n, &e);
            }
        }
        Ok(())
    }

    /// Commits (or, in strict mode with any error, refuses the whole file).
    pub async fn finish(self, user: &CurrentUser) -> AppResult<ImportReport> {
        let Import {
            mut tx,
            mut report,
            sheet,
            strict,
        } = self;
        if strict && report.errors_total > 0 {
            tx.rollback().await?;
            report.created = 0;
            report.updated = 0;
            report.unchanged = 0;
            return Err(AppError::ImportRejected(
                serde_json::to_value(&report).unwrap_or_default(),
            ));
        }
        if report.created + report.updated == 0 {
            tx.rollback().await?;
            return Ok(report);
        }
        audit::write(
            &mut tx,
            Audit::by(user, "import", sheet.name, "")
                .area(user.area.as_str())
                .detail(format!(
                    "{}：新增 {}，更新 {}，未变 {}，失败 {}",
                    report.mode, report.created, report.updated, report.unchanged, report.failed
                )),
        )
        .await?;
        tx.commit().await?;
        report.written = true;
        Ok(report)
    }
}
