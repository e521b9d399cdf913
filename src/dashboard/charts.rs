//! The dashboard's charts: a step line drawn as inline SVG from a series of points, with a title
//! and description for screen readers (the page puts the same numbers in a table beside it).

use std::fmt::Write;

use super::campaign::Point;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

/// An SVG step chart of `points`, or a sentence when there are none. `id` names its title for
/// `aria-labelledby`; `unit` formats a value for the axis.
pub fn step_chart(id: &str, title: &str, points: &[Point], unit: &dyn Fn(u64) -> String) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return format!("<p class=\"empty\">{}: nothing recorded yet.</p>", escape(title));
    };
    let max = points.iter().map(|p| p.value).max().unwrap_or(0).max(1) as f64;
    let span = (last.at - first.at).max(1) as f64;
    let x = |at: i64| LEFT + (at - first.at) as f64 / span * (WIDTH - LEFT - 8.0);
    let y = |value: u64| TOP + (1.0 - value as f64 / max) * (HEIGHT - TOP - BOTTOM);
    let mut path = format!("M{:.1},{:.1}", x(first.at), y(0));
    for p in points {
        let _ = write!(path, " H{:.1} V{:.1}", x(p.at), y(p.value));
    }
    let _ = write!(path, " H{:.1}", WIDTH - 8.0);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">From {} at {} to {} at {}; the table below lists every point.</desc>",
        escape(title),
        unit(first.value),
        day(first.at),
        unit(last.value),
        day(last.at)
    );
    let axis_y = HEIGHT - BOTTOM;
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{axis_y}\"/>\
         <text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <text class=\"label\" x=\"{}\" y=\"{axis_y}\" text-anchor=\"end\">0</text>\
         <text class=\"label\" x=\"{LEFT}\" y=\"{}\">{}</text>\
         <text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <path class=\"line\" d=\"{path}\"/></svg>",
        WIDTH - 8.0,
        LEFT - 6.0,
        TOP + 10.0,
        unit(max as u64),
        LEFT - 6.0,
        HEIGHT - 8.0,
        day(first.at),
        WIDTH - 8.0,
        HEIGHT - 8.0,
        day(last.at)
    );
    svg
}

/// A time as its day, `2026-12-02`.
pub fn day(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

/// Text made safe for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_titled_step_line_or_says_there_is_nothing() {
        let points = [Point { at: 1_764_633_600, value: 5 }, Point { at: 1_764_720_000, value: 2 }];
        let svg = step_chart("burn", "Open findings", &points, &|v| v.to_string());
        assert!(svg.starts_with("<svg class=\"chart\"") && svg.ends_with("</svg>"), "{svg}");
        assert!(svg.contains("<title id=\"burn-title\">Open findings</title>"), "{svg}");
        assert!(svg.contains("From 5 at 2025-12-02 to 2 at 2025-12-03"), "{svg}");
        assert!(svg.contains("<path class=\"line\" d=\"M64.0,192.0 H64.0 V12.0 H632.0 V120.0 H632.0\"/>"), "{svg}");
        assert_eq!(
            step_chart("x", "Bytes <saved>", &[], &|v| v.to_string()),
            "<p class=\"empty\">Bytes &lt;saved&gt;: nothing recorded yet.</p>"
        );
    }
}
