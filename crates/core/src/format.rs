//! Pure renderings of findings: the ranked terminal table.

use crate::finding::Finding;

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// One line per finding, ranked as given: id, severity, risk, when, detector, title. The id is
/// the start of the finding uid, enough for `detector feedback` and `findings show`, which take
/// any unique prefix. `width` is the terminal width; titles are cut to fit.
pub fn table(findings: &[Finding], width: usize) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<10}  {:<8}  {:>4}  {:<17}  {:<18}  {}\n",
        "ID", "SEVERITY", "RISK", "LAST SEEN (UTC)", "DETECTOR", "WHAT AND WHY"
    ));
    let fixed = 10 + 2 + 8 + 2 + 4 + 2 + 17 + 2 + 18 + 2;
    let room = width.saturating_sub(fixed).max(30);
    for f in findings {
        let when = crate::time::format_iso8601_ms(f.last_seen_ms);
        let when = when.get(..16).unwrap_or(&when).replace('T', " ");
        let mut title = f.title.clone();
        if let Some(s) = &f.suppressed {
            title = format!("[suppressed: {s}] {title}");
        }
        out.push_str(&format!(
            "{:<10}  {:<8}  {:>4}  {:<17}  {:<18}  {}\n",
            f.uid.get(..10).unwrap_or(&f.uid),
            f.severity.name(),
            f.risk_score,
            when,
            cut(&f.detector, 18),
            cut(&title, room)
        ));
    }
    out
}
