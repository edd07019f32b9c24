//! The report's bar charts, `<target>/bench/report.svg` (corio against the
//! single-threaded peers) and `report-mt.svg` (corio-mt against the
//! multi-threaded ones): the subject's time per operation divided by each
//! peer's, one group of bars per workload, on a log scale centred on 1.0,
//! so that bars going left are where the subject leads and bars going right
//! are where it trails.
//!
//! Drawn with plotters' SVG backend only. No font feature is enabled: the
//! SVG holds `<text>` elements that the viewer renders with its own fonts,
//! and plotters lays them out from an estimate of their width, which is all
//! a label needs. So nothing here reads a font file or links a system
//! font library.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::Result;

/// One group of bars: a workload and corio's ratio to each baseline.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    /// The workload's name, shown left of its bars.
    pub(crate) label: String,
    /// corio's time per op over the baseline's, one per baseline, in the
    /// chart's baseline order; `None` where either side has no result.
    pub(crate) ratios: Vec<Option<f64>>,
}

/// The chart's width in pixels.
const WIDTH: u32 = 960;
/// Pixels above the plot (caption) and below it (axis labels).
const TOP: u32 = 92;
/// Pixels below the plot.
const BOTTOM: u32 = 60;
/// Pixels left of the plot for the workload names.
const LABEL_WIDTH: u32 = 170;
/// The height of one bar, in pixels.
const BAR: u32 = 13;
/// Blank pixels between two workloads' groups of bars.
const GAP: u32 = 10;

/// A colour per baseline, in order (repeating if there are more).
const COLOURS: [RGBColor; 4] = [
    RGBColor(47, 111, 196),
    RGBColor(230, 133, 33),
    RGBColor(120, 80, 170),
    RGBColor(60, 150, 120),
];

/// The lower and upper bound of the x axis: symmetric around 1.0 on the log
/// scale, wide enough for every ratio and at least 0.5..2.
fn x_range(rows: &[Row]) -> (f64, f64) {
    let span = rows
        .iter()
        .flat_map(|r| r.ratios.iter().flatten())
        .filter(|r| r.is_finite() && **r > 0.0)
        .map(|r| r.ln().abs())
        .fold(2f64.ln(), f64::max)
        * 1.15;
    ((-span).exp(), span.exp())
}

/// The x axis's ticks within `lo..=hi`: 1, 2 and 5 times the powers of ten.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    for exp in -4..=4 {
        for m in [1.0, 2.0, 5.0] {
            let t = m * 10f64.powi(exp);
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
    }
    ticks
}

/// A tick's label: as few digits as it needs (`0.05`, `0.5`, `1`, `20`).
fn tick_label(t: f64) -> String {
    let s = format!("{t:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The chart as an SVG document. `subject` is the runtime whose ratios
/// these are, `baselines` names the peers they are taken against (one bar
/// colour each); `note` is a line under the title (how the numbers were
/// taken).
pub(crate) fn ratio_chart(
    subject: &str,
    baselines: &[&str],
    rows: &[Row],
    note: &str,
) -> Result<String> {
    let groups = rows.len().max(1);
    let bars = baselines.len().max(1);
    let group_px = BAR * bars as u32 + GAP;
    let height = TOP + BOTTOM + group_px * groups as u32;
    let (lo, hi) = x_range(rows);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (header, body) = root.split_vertically(TOP - 10);
        header.draw(&Text::new(
            format!("{subject}'s time per operation ÷ each peer's (median; log scale)"),
            (16, 10),
            ("sans-serif", 20).into_font().color(&BLACK),
        ))?;
        header.draw(&Text::new(
            note.to_owned(),
            (16, 36),
            ("sans-serif", 13).into_font().color(&RGBColor(90, 90, 90)),
        ))?;

        // One unit of y per group; group i spans [groups-1-i, groups-i].
        let mut chart = ChartBuilder::on(&body)
            .margin_right(24)
            .margin_top(4)
            .x_label_area_size(BOTTOM - 10)
            .y_label_area_size(LABEL_WIDTH)
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..groups as f64)?;

        // Shade the halves first, so the grid and bars draw over them.
        let top = groups as f64;
        chart.draw_series([
            Rectangle::new([(lo, 0.0), (1.0, top)], RGBColor(232, 245, 233).filled()),
            Rectangle::new([(1.0, 0.0), (hi, top)], RGBColor(252, 234, 232).filled()),
        ])?;
        // The axis and its description come from the mesh; the grid lines
        // and tick labels are drawn below at 1-2-5 steps, which plotters'
        // log axis does not place on both sides of 1.0.
        chart
            .configure_mesh()
            .disable_mesh()
            .y_labels(0)
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .set_all_tick_mark_size(0)
            .x_desc(format!(
                "{subject} ÷ peer  (below 1.0: {subject} faster; above: {subject} slower)"
            ))
            .axis_desc_style(("sans-serif", 13))
            .draw()?;
        let (x0, y0) = body.get_base_pixel();
        for tick in ticks(lo, hi) {
            chart.draw_series([PathElement::new(
                [(tick, 0.0), (tick, top)],
                RGBColor(205, 205, 205).stroke_width(1),
            )])?;
            let (px, py) = chart.backend_coord(&(tick, 0.0));
            body.draw(&Text::new(
                tick_label(tick),
                (px - x0, py - y0 + 8),
                ("sans-serif", 12)
                    .into_font()
                    .color(&RGBColor(60, 60, 60))
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        let small = ("sans-serif", 12).into_font();
        chart.draw_series([
            EmptyElement::at((lo, top))
                + Text::new(
                    format!("← {subject} faster"),
                    (6, 4),
                    small.color(&RGBColor(30, 110, 50)),
                ),
            EmptyElement::at((hi, top))
                + Text::new(
                    format!("{subject} slower →"),
                    (-6, 4),
                    small
                        .color(&RGBColor(170, 40, 30))
                        .pos(Pos::new(HPos::Right, VPos::Top)),
                ),
        ])?;

        // Where, in y units, bar `j` of group `i` starts and ends.
        let unit = 1.0 / f64::from(group_px);
        let bar_y = |i: usize, j: usize| {
            let group_top = (groups - i) as f64 - unit * f64::from(GAP) / 2.0;
            let y1 = group_top - unit * f64::from(BAR) * j as f64;
            (y1 - unit * f64::from(BAR) * 0.9, y1)
        };
        for (j, baseline) in baselines.iter().enumerate() {
            let colour = COLOURS[j % COLOURS.len()];
            let bars = rows.iter().enumerate().filter_map(|(i, row)| {
                let ratio = row.ratios.get(j).copied().flatten()?;
                let (y0, y1) = bar_y(i, j);
                Some(Rectangle::new([(1.0, y0), (ratio, y1)], colour.filled()))
            });
            chart.draw_series(bars)?;
            // The legend, a line under the note.
            let lx = 16 + 200 * j as i32;
            let ly = 58;
            header.draw(&Rectangle::new(
                [(lx, ly), (lx + 12, ly + 12)],
                colour.filled(),
            ))?;
            header.draw(&Text::new(
                format!("{subject} ÷ {baseline}"),
                (lx + 18, ly + 6),
                ("sans-serif", 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            let values = rows.iter().enumerate().map(|(i, row)| {
                let (y0, y1) = bar_y(i, j);
                let y = (y0 + y1) / 2.0;
                let (x, text, dx, h) = match row.ratios.get(j).copied().flatten() {
                    Some(r) if r >= 1.0 => (r, format!("{r:.2}"), 4, HPos::Left),
                    Some(r) => (r, format!("{r:.2}"), -4, HPos::Right),
                    None => (1.0, "n/a".to_owned(), 4, HPos::Left),
                };
                EmptyElement::at((x, y))
                    + Text::new(
                        text,
                        (dx, 0),
                        ("sans-serif", 11)
                            .into_font()
                            .color(&RGBColor(50, 50, 50))
                            .pos(Pos::new(h, VPos::Center)),
                    )
            });
            chart.draw_series(values)?;
        }
        chart.draw_series([PathElement::new(
            [(1.0, 0.0), (1.0, top)],
            BLACK.stroke_width(1),
        )])?;

        // The workload names, right-aligned against the plot's left edge.
        for (i, row) in rows.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(lo, (groups - i) as f64 - 0.5));
            body.draw(&Text::new(
                row.label.clone(),
                (px - x0 - 8, py - y0),
                ("sans-serif", 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        vec![
            Row {
                label: "spawn".into(),
                ratios: vec![Some(0.33), Some(0.44)],
            },
            Row {
                label: "sleep-cancel".into(),
                ratios: vec![Some(1.21), None],
            },
        ]
    }

    #[test]
    fn x_range_is_symmetric_and_covers_every_ratio() {
        let (lo, hi) = x_range(&rows());
        assert!((lo * hi - 1.0).abs() < 1e-9, "{lo} {hi}");
        assert!(lo < 0.33 && hi > 1.0 / 0.33);
        let (lo, hi) = x_range(&[]);
        assert!(lo < 0.5 && hi > 2.0);
    }

    #[test]
    fn ticks_are_one_two_five() {
        assert_eq!(ticks(0.3, 3.5), [0.5, 1.0, 2.0]);
        assert_eq!(ticks(0.01, 0.03), [0.01, 0.02]);
        let labels: Vec<String> = [0.05, 0.5, 1.0, 20.0].map(tick_label).into();
        assert_eq!(labels, ["0.05", "0.5", "1", "20"]);
    }

    #[test]
    fn chart_is_an_svg_with_every_label() {
        let svg = ratio_chart("corio", &["tokio-ct", "smol-local"], &rows(), "3 samples").unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.trim_end().ends_with("</svg>"));
        for text in [
            "spawn",
            "sleep-cancel",
            "corio ÷ tokio-ct",
            "corio ÷ smol-local",
            "0.33",
            "1.21",
            "n/a",
            "3 samples",
            "corio faster",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        // Two shaded halves, and one bar per ratio that exists.
        assert!(svg.matches("<rect").count() >= 2 + 3, "{svg}");
    }

    #[test]
    fn chart_names_its_subject() {
        let svg = ratio_chart("corio-mt", &["tokio-mt"], &rows(), "workers=2").unwrap();
        for text in ["corio-mt ÷ tokio-mt", "corio-mt faster", "corio-mt slower"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(!svg.contains("corio ÷"), "{svg}");
    }
}
