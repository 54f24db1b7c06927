//! Bulletins (通报): the content of a period's bulletin for an area, drawn from its stored
//! scores and event counts, rendered as PDF (krilla, with a CJK font subset) and xlsx.

use super::model::{BulletinTemplate, ScoreRow};
use crate::error::{AppError, AppResult};
use civgrid_core::indicators::{Counts, Rates};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use std::sync::{Arc, OnceLock};

/// The built-in template of a period kind.
pub fn default_template(kind: &str) -> BulletinTemplate {
    let (span, what) = match kind {
        "week" => ("本周", "一周一统计"),
        "month" => ("本月", "一月一通报"),
        "quarter" => ("本季度", "季度通报"),
        _ => ("本年度", "年度通报"),
    };
    BulletinTemplate {
        period_kind: kind.into(),
        title: "{area}{period}网格化服务管理工作通报".into(),
        intro: format!(
            "按照“{what}”工作要求，现将{{period}}全{{area}}网格化服务管理工作情况通报如下。\
             {span}共受理事件 {{reported}} 件，办结 {{closed}} 件，结案率 {{closure_rate}}，\
             按期结案率 {{on_time_rate}}，群众满意率 {{satisfaction_rate}}，\
             未按期办结 {{overdue}} 件。"
        ),
        closing: "请排名靠后的单位认真分析原因，制定整改措施，切实提升事件办理质效。\
                  各级综治中心要加强督导检查，确保各项工作落到实处。"
            .into(),
        issuer: "{area}综治中心".into(),
        top_n: 10,
    }
}

/// A ranking table of a bulletin.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub rows: Vec<ScoreRow>,
}

/// Everything a bulletin shows.
#[derive(Debug, Clone)]
pub struct Content {
    pub title: String,
    pub area_name: String,
    pub period_label: String,
    pub intro: String,
    pub closing: String,
    pub issuer: String,
    pub date: String,
    pub counts: Counts,
    /// Scores of the areas one level down, drawn as a bar chart.
    pub chart_title: String,
    pub chart: Vec<(String, f64)>,
    pub tables: Vec<Table>,
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), |v| format!("{v:.2}%"))
}

/// Fills a template text's placeholders.
pub fn fill(text: &str, area: &str, period: &str, c: &Counts) -> String {
    let r = Rates::of(c);
    text.replace("{area}", area)
        .replace("{period}", period)
        .replace("{reported}", &c.reported.to_string())
        .replace("{closed}", &c.closed.to_string())
        .replace("{closure_rate}", &pct(r.closure_rate))
        .replace("{on_time_rate}", &pct(r.on_time_closure_rate))
        .replace("{satisfaction_rate}", &pct(r.satisfaction_rate))
        .replace(
            "{overdue}",
            &(c.should_close - c.closed_on_time).max(0).to_string(),
        )
}

/// Where a CJK font is looked for when `pdf_font` is not configured.
const FONT_PLACES: [&str; 4] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];

static FONT: OnceLock<Font> = OnceLock::new();

/// The CJK font, read once. In a Noto CJK collection the Simplified Chinese face is the
/// third (JP, KR, SC, TC, HK).
pub fn font(configured: Option<&str>) -> AppResult<Font> {
    if let Some(f) = FONT.get() {
        return Ok(f.clone());
    }
    let places: Vec<&str> = configured.into_iter().chain(FONT_PLACES).collect();
    for p in &places {
        let Ok(data) = std::fs::read(p) else {
            continue;
        };
        let index = if p.contains("NotoSansCJK") || p.contains("NotoSerifCJK") {
            2
        } else {
            0
        };
        let data = Arc::new(data);
        if let Some(f) = Font::new(data.clone().into(), index).or_else(|| Font::new(data.into(), 0))
        {
            return Ok(FONT.get_or_init(|| f).clone());
        }
    }
    Err(AppError::FontNotFound(places.join(", ")))
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;

/// Approximate advance of text: CJK and full-width characters take one em, others about half.
fn text_width(s: &str, size: f32) -> f32 {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 1.0 } else { 0.55 })
        .sum::<f32>()
        * size
}

/// Cuts `s` to fit `width`, adding an ellipsis when cut.
fn fit(s: &str, size: f32, width: f32) -> String {
    if text_width(s, size) <= width {
        return s.into();
    }
    let mut out = String::new();
    for c in s.chars() {
        out.push(c);
        if text_width(&out, size) + size > width {
            out.pop();
            out.push('…');
            break;
        }
    }
    out
}

/// Breaks a paragraph into lines of at most `width`, keeping runs of Latin letters, digits
/// and their punctuation (`91.80%`) whole.
fn wrap(s: &str, size: f32, width: f32) -> Vec<String> {
    let latin = |c: char| c.is_ascii_graphic();
    let mut lines = vec![];
    let mut cur: Vec<char> = vec![];
    for c in s.chars() {
        cur.push(c);
        if text_width(&cur.iter().collect::<String>(), size) > width {
            let mut cut = cur.len() - 1;
            if latin(c) {
                let run = cur.iter().rev().take_while(|c| latin(**c)).count();
                if run < cur.len() {
                    cut = cur.len() - run;
                }
            }
            let rest = cur.split_off(cut);
            lines.push(cur.iter().collect());
            cur = rest;
        }
    }
    let cur: String = cur.into_iter().collect();
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Draws pages top to bottom, starting a new page when one is full.
struct Writer {
    doc: Document,
    font: Font,
    pages: Vec<Vec<Op>>,
    y: f32,
}

/// A drawing operation, kept until the page is written.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
        color: (u8, u8, u8),
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: (u8, u8, u8),
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
    },
}

const BLACK: (u8, u8, u8) = (0, 0, 0);
const RED: (u8, u8, u8) = (192, 0, 0);
const GREY: (u8, u8, u8) = (90, 90, 90);

impl Writer {
    fn new(font: Font) -> Writer {
        Writer {
            doc: Document::new(),
            font,
            pages: vec![vec![]],
            y: MARGIN,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    /// Makes room for `h` points, on a new page when this one is full.
    fn room(&mut self, h: f32) {
        if self.y + h > PAGE_H - MARGIN {
            self.pages.push(vec![]);
            self.y = MARGIN;
        }
    }

    fn text(&mut self, x: f32, size: f32, text: &str, color: (u8, u8, u8)) {
        let y = self.y + size;
        self.ops().push(Op::Text {
            x,
            y,
            size,
            text: text.into(),
            color,
        });
    }

    fn centred(&mut self, size: f32, text: &str, color: (u8, u8, u8)) {
        self.room(size * 1.6);
        let x = (PAGE_W - text_width(text, size)) / 2.0;
        self.text(x.max(MARGIN), size, text, color);
        self.y += size * 1.6;
    }

    fn paragraph(&mut self, size: f32, text: &str) {
        let width = PAGE_W - 2.0 * MARGIN;
        for (i, line) in wrap(&format!("　　{text}"), size, width).iter().enumerate() {
            self.room(size * 1.7);
            let _ = i;
            self.text(MARGIN, size, line, BLACK);
            self.y += size * 1.7;
        }
        self.y += size * 0.5;
    }

    fn heading(&mut self, text: &str) {
        self.room(40.0);
        self.y += 6.0;
        self.text(MARGIN, 13.0, text, BLACK);
        self.y += 22.0;
    }

    /// A table with a header row and grid lines; columns are widths in points.
    fn table(&mut self, head: &[&str], widths: &[f32], rows: &[Vec<String>]) {
        let size = 9.5;
        let h = 18.0;
        let draw_row = |w: &mut Writer, cells: &[String], header: bool| {
            w.room(h);
            let top = w.y;
            if header {
                w.ops().push(Op::Rect {
                    x: MARGIN,
                    y: top,
                    w: widths.iter().sum(),
                    h,
                    color: (228, 234, 244),
                });
            }
            let mut x = MARGIN;
            for (cell, cw) in cells.iter().zip(widths) {
                let t = fit(cell, size, cw - 8.0);
                w.ops().push(Op::Text {
                    x: x + 4.0,
                    y: top + 13.0,
                    size,
                    text: t,
                    color: BLACK,
                });
                x += cw;
            }
            let right = MARGIN + widths.iter().sum::<f32>();
            w.ops().push(Op::Line {
                x1: MARGIN,
                y1: top + h,
                x2: right,
                y2: top + h,
            });
            if header {
                w.ops().push(Op::Line {
                    x1: MARGIN,
                    y1: top,
                    x2: right,
                    y2: top,
                });
            }
            w.y += h;
        };
        let head: Vec<String> = head.iter().map(|s| s.to_string()).collect();
        draw_row(self, &head, true);
        for r in rows {
            if self.y + h > PAGE_H - MARGIN {
                self.room(h);
                draw_row(self, &head, true);
            }
            draw_row(self, r, false);
        }
        self.y += 10.0;
    }

    /// A horizontal bar chart of scores (0–100).
    fn bars(&mut self, bars: &[(String, f64)]) {
        let size = 9.0;
        let bar_h = 12.0;
        let label_w = 110.0;
        let full = PAGE_W - 2.0 * MARGIN - label_w - 40.0;
        for (name, score) in bars {
            self.room(bar_h + 6.0);
            let top = self.y;
            self.ops().push(Op::Text {
                x: MARGIN,
                y: top + 10.0,
                size,
                text: fit(name, size, label_w - 6.0),
                color: BLACK,
            });
            let w = (full * (*score as f32 / 100.0)).max(1.0);
            let color = if *score >= 90.0 {
                (46, 125, 50)
            } else if *score >= 60.0 {
                (33, 102, 172)
            } else {
                (198, 40, 40)
            };
            self.ops().push(Op::Rect {
                x: MARGIN + label_w,
                y: top + 1.0,
                w,
                h: bar_h - 2.0,
                color,
            });
            self.ops().push(Op::Text {
                x: MARGIN + label_w + w + 4.0,
                y: top + 10.0,
                size,
                text: format!("{score:.2}"),
                color: GREY,
            });
            self.y += bar_h + 4.0;
        }
        self.y += 8.0;
    }

    fn finish(mut self, title: &str) -> AppResult<Vec<u8>> {
        self.doc
            .set_metadata(Metadata::new().title(title.into()).language("zh-CN".into()));
        let total = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        for (i, ops) in pages.into_iter().enumerate() {
            let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("page size")))?;
            let mut page = self.doc.start_page_with(settings);
            let mut s = page.surface();
            for op in ops {
                draw(&mut s, &self.font, op);
            }
            let footer = format!("第 {} 页 / 共 {total} 页", i + 1);
            draw(
                &mut s,
                &self.font,
                Op::Text {
                    x: (PAGE_W - text_width(&footer, 9.0)) / 2.0,
                    y: PAGE_H - 30.0,
                    size: 9.0,
                    text: footer,
                    color: GREY,
                },
            );
            s.finish();
            page.finish();
        }
        self.doc
            .finish()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("PDF: {e:?}")))
    }
}

fn fill_of((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        ..Fill::default()
    }
}

fn draw(s: &mut Surface<'_>, font: &Font, op: Op) {
    match op {
        Op::Text {
            x,
            y,
            size,
            text,
            color,
        } => {
            s.set_fill(Some(fill_of(color)));
            s.draw_text(
                Point::from_xy(x, y),
                font.clone(),
                size,
                &text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Rect { x, y, w, h, color } => {
            let mut pb = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(x, y, w, h) {
                pb.push_rect(r);
            }
            if let Some(path) = pb.finish() {
                s.set_stroke(None);
                s.set_fill(Some(fill_of(color)));
                s.draw_path(&path);
            }
        }
        Op::Line { x1, y1, x2, y2 } => {
            let mut pb = PathBuilder::new();
            pb.move_to(x1, y1);
            pb.line_to(x2, y2);
            if let Some(path) = pb.finish() {
                s.set_fill(None);
                s.set_stroke(Some(Stroke {
                    paint: rgb::Color::new(150, 150, 150).into(),
                    width: 0.6,
                    ..Stroke::default()
                }));
                s.draw_path(&path);
                s.set_stroke(None);
            }
        }
    }
}

fn stars(n: i64) -> String {
    "★".repeat(n.clamp(0, 5) as usize)
}

fn table_rows(rows: &[ScoreRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            vec![
                r.rank.to_string(),
                r.subject_name.clone(),
                format!("{:.2}", r.score),
                r.grade.clone(),
                stars(r.stars),
            ]
        })
        .collect()
}

/// The bulletin as a PDF.
pub fn pdf(font: Font, c: &Content) -> AppResult<Vec<u8>> {
    let mut w = Writer::new(font);
    w.centred(22.0, "工 作 通 报", RED);
    w.centred(10.5, &format!("{}　　{}", c.issuer, c.date), GREY);
    let right = PAGE_W - MARGIN;
    let y = w.y;
    w.ops().push(Op::Rect {
        x: MARGIN,
        y,
        w: right - MARGIN,
        h: 1.5,
        color: RED,
    });
    w.y += 14.0;
    for line in wrap(&c.title, 16.0, PAGE_W - 2.0 * MARGIN) {
        w.centred(16.0, &line, BLACK);
    }
    w.y += 6.0;
    w.paragraph(11.0, &c.intro);

    let r = Rates::of(&c.counts);
    w.heading("一、事件办理总体情况");
    w.table(
        &[
            "受理",
            "办结",
            "结案率",
            "按期结案率",
            "返工率",
            "满意率",
            "平均办理（小时）",
        ],
        &[55.0, 55.0, 65.0, 75.0, 60.0, 60.0, 113.0],
        &[vec![
            c.counts.reported.to_string(),
            c.counts.closed.to_string(),
            pct(r.closure_rate),
            pct(r.on_time_closure_rate),
            pct(r.rework_rate),
            pct(r.satisfaction_rate),
            r.mean_handle_hours
                .map_or_else(|| "—".into(), |h| format!("{h:.2}")),
        ]],
    );
    let mut n = 2;
    if !c.chart.is_empty() {
        w.heading(&format!("{}、{}", cn_num(n), c.chart_title));
        w.bars(&c.chart);
        n += 1;
    }
    for t in &c.tables {
        w.heading(&format!("{}、{}", cn_num(n), t.title));
        if t.rows.is_empty() {
            w.paragraph(10.5, "本期无考核数据。");
        } else {
            w.table(
                &["名次", "名称", "得分", "等级", "星级"],
                &[45.0, 220.0, 70.0, 50.0, 98.0],
                &table_rows(&t.rows),
            );
        }
        n += 1;
    }
    w.paragraph(11.0, &c.closing);
    w.room(40.0);
    let issuer_w = text_width(&c.issuer, 11.0);
    w.text(right - issuer_w, 11.0, &c.issuer.clone(), BLACK);
    w.y += 18.0;
    let date_w = text_width(&c.date, 11.0);
    w.text(right - date_w, 11.0, &c.date.clone(), BLACK);
    w.finish(&c.title)
}

fn cn_num(n: usize) -> &'static str {
    [
        "零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
    ]
    .get(n)
    .copied()
    .unwrap_or("十")
}

/// The bulletin as a workbook: a summary sheet and one sheet per ranking.
pub fn xlsx(c: &Content) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let r = Rates::of(&c.counts);
    let sheet = wb.add_worksheet();
    sheet.set_name("总体情况").map_err(err)?;
    sheet.set_column_width(0, 22).map_err(err)?;
    sheet.set_column_width(1, 60).map_err(err)?;
    sheet
        .write_with_format(0, 0, &c.title, &bold)
        .map_err(err)?;
    let lines: Vec<(&str, String)> = vec![
        ("区域", c.area_name.clone()),
        ("期间", c.period_label.clone()),
        ("受理事件", c.counts.reported.to_string()),
        ("办结事件", c.counts.closed.to_string()),
        ("结案率", pct(r.closure_rate)),
        ("按期结案率", pct(r.on_time_closure_rate)),
        ("返工率", pct(r.rework_rate)),
        ("满意率", pct(r.satisfaction_rate)),
        ("通报内容", c.intro.clone()),
        ("工作要求", c.closing.clone()),
        ("发文单位", c.issuer.clone()),
        ("日期", c.date.clone()),
    ];
    for (i, (k, v)) in lines.iter().enumerate() {
        sheet
            .write_with_format(i as u32 + 2, 0, *k, &bold)
            .map_err(err)?;
        sheet.write(i as u32 + 2, 1, v).map_err(err)?;
    }
    for (i, t) in c.tables.iter().enumerate() {
        let sheet = wb.add_worksheet();
        sheet
            .set_name(format!("{}", i + 1) + "." + &fit_sheet_name(&t.title))
            .map_err(err)?;
        for (col, (h, w)) in [
            ("名次", 8),
            ("名称", 30),
            ("得分", 10),
            ("等级", 8),
            ("星级", 10),
        ]
        .iter()
        .enumerate()
        {
            sheet
                .write_with_format(0, col as u16, *h, &bold)
                .map_err(err)?;
            sheet.set_column_width(col as u16, *w).map_err(err)?;
        }
        for (j, row) in t.rows.iter().enumerate() {
            let y = j as u32 + 1;
            sheet.write(y, 0, row.rank as f64).map_err(err)?;
            sheet.write(y, 1, &row.subject_name).map_err(err)?;
            sheet.write(y, 2, row.score).map_err(err)?;
            sheet.write(y, 3, &row.grade).map_err(err)?;
            sheet.write(y, 4, stars(row.stars)).map_err(err)?;
        }
    }
    wb.save_to_buffer().map_err(err)
}

/// Sheet names are at most 31 characters and may not hold `[]:*?/\`.
fn fit_sheet_name(s: &str) -> String {
    s.chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(26)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        let c = Counts {
            reported: 10,
            closed: 8,
            should_close: 10,
            closed_on_time: 7,
            ..Default::default()
        };
        let t = fill(
            "{area}{period}：{reported} 件，结案率 {closure_rate}，未按期 {overdue} 件，满意率 {satisfaction_rate}",
            "东昌府区",
            "2026年10月",
            &c,
        );
        assert_eq!(
            t,
            "东昌府区2026年10月：10 件，结案率 80.00%，未按期 3 件，满意率 —"
        );
    }

    #[test]
    fn text_is_wrapped_and_cut_to_width() {
        let lines = wrap("一二三四五六七八九十", 10.0, 35.0);
        assert_eq!(lines, vec!["一二三", "四五六", "七八九", "十"]);
        assert_eq!(
            wrap("满意率 91.80%。", 10.0, 60.0),
            vec!["满意率 ", "91.80%。"]
        );
        assert_eq!(fit("一二三四五", 10.0, 40.0), "一二三…");
        assert_eq!(fit("短", 10.0, 40.0), "短");
    }
}
