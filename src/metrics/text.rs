//! The two text formats of a scrape. `prometheus-client` writes
//! OpenMetrics, which Prometheus asks for; everything else (curl, `promtool
//! check metrics`, older scrapers) gets the classic Prometheus text format
//! 0.0.4, derived from it here. For the metric types exported (counters,
//! gauges, classic histograms) the samples are the same in both; what
//! differs is only the metadata:
//!
//! - a counter's family is named without `_total` in OpenMetrics and with
//!   it in 0.0.4, where HELP and TYPE must name the sample itself;
//! - `# UNIT` and the closing `# EOF` exist only in OpenMetrics.

pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether an `Accept` header asks for OpenMetrics (Prometheus's does).
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|part| {
            let mut params = part.split(';').map(str::trim);
            let is_om = params
                .next()
                .is_some_and(|t| t.eq_ignore_ascii_case("application/openmetrics-text"));
            // q=0 means "not this one".
            is_om && !params.any(|p| p.replace(' ', "") == "q=0")
        })
    })
}

/// OpenMetrics text as written by `prometheus-client` → Prometheus 0.0.4.
pub fn to_prometheus(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match meta {
            Some((p, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(p);
                out.push_str(name);
                if counters.contains(name) {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(tail);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_by_their_sample_and_openmetrics_markers_go() {
        let om = "# HELP a_hits Hits.\n# TYPE a_hits counter\na_hits_total{code=\"x\"} 1\n\
                  # HELP b_seconds Time.\n# TYPE b_seconds histogram\n# UNIT b_seconds seconds\n\
                  b_seconds_sum 0.5\nb_seconds_count 1\nb_seconds_bucket{le=\"+Inf\"} 1\n\
                  # HELP c Files.\n# TYPE c gauge\nc 3\n# EOF\n";
        assert_eq!(
            to_prometheus(om),
            "# HELP a_hits_total Hits.\n# TYPE a_hits_total counter\na_hits_total{code=\"x\"} 1\n\
             # HELP b_seconds Time.\n# TYPE b_seconds histogram\n\
             b_seconds_sum 0.5\nb_seconds_count 1\nb_seconds_bucket{le=\"+Inf\"} 1\n\
             # HELP c Files.\n# TYPE c gauge\nc 3\n"
        );
    }

    #[test]
    fn accept_headers() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_openmetrics(Some(prometheus)));
        assert!(!wants_openmetrics(None));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(Some("text/plain")));
        assert!(!wants_openmetrics(Some(
            "application/openmetrics-text; q=0"
        )));
    }
}
