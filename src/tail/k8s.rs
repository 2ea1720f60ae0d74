//! Which Kubernetes workload a followed file is the log of, from where the
//! kubelet keeps it: `.../pods/<namespace>_<pod>_<uid>/<container>/<N>.log`
//! (and its rotated `<N>.log.<date>`). Events from such a file carry
//! `"k8s": {"namespace", "pod", "container"}`, so an operator sees which
//! workload hits a quota; metrics do not (one series per pod would explode
//! their cardinality).
//!
//! The path is the file's real path: for a link of the usual layout
//! (`/var/log/containers/<pod>_<namespace>_<container>-<id>.log`) its
//! target. Only the last four components count (a directory named `pods`,
//! the pod's directory, the container's, the file), so the same rules
//! hold wherever the host's log directory is mounted (a DaemonSet's
//! `hostPath`, a test's temporary directory). Namespaces, pod names and
//! UIDs never contain `_` (Kubernetes names are DNS labels and
//! subdomains), so the pod directory splits into exactly three parts, or
//! it is not a pod's.
//!
//! Cost: once per followed file and rename, never per hit (the result is
//! rendered into the file's event source text).

use crate::sink::events::json;
use std::path::Path;

/// The workload a pod's log belongs to.
#[derive(Debug, PartialEq, Eq)]
pub struct Workload<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
}

/// The workload whose log `path` is, when it lies in a pods tree.
pub fn workload(path: &Path) -> Option<Workload<'_>> {
    let mut up = path.iter().rev().map(|c| c.to_str());
    let (file, container, pod_dir, pods) = (up.next()??, up.next()??, up.next()??, up.next()??);
    let (restart, _rotated) = file
        .strip_suffix(".log")
        .map(|r| (r, ""))
        .or_else(|| file.split_once(".log."))?;
    if pods != "pods"
        || restart.is_empty()
        || !restart.bytes().all(|b| b.is_ascii_digit())
        || container.is_empty()
    {
        return None;
    }
    let mut parts = pod_dir.split('_');
    let (namespace, pod, uid) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || namespace.is_empty() || pod.is_empty() || uid.is_empty() {
        return None;
    }
    Some(Workload {
        namespace,
        pod,
        container,
    })
}

/// Whether a followed file is a pod's log (by `target`, the real path
/// behind a link, else `path`): only those are read as CRI records
/// (`cri`), so a plain log never waits for its first line to be sniffed.
pub fn is_pod_log(path: &Path, target: Option<&Path>) -> bool {
    workload(target.unwrap_or(path)).is_some()
}

/// The JSON text of a followed file's `source` in its events: its path as
/// a JSON string and, for a pod's log (by `target`, the real path behind
/// a link, else `path` itself), the `"k8s"` member after it.
pub fn source_json(path: &Path, target: Option<&Path>) -> String {
    let mut text = json(&path.display().to_string());
    if let Some(w) = workload(target.unwrap_or(path)) {
        text.push_str(&format!(
            ",\"k8s\":{{\"namespace\":{},\"pod\":{},\"container\":{}}}",
            json(w.namespace),
            json(w.pod),
            json(w.container)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_log_paths_name_their_workload() {
        fn w(p: &str) -> Option<Workload<'_>> {
            workload(Path::new(p))
        }
        assert_eq!(
            w(
                "/var/log/pods/shop_api-7d9f8b6c5-x2x4z_0b1c2d3e-aaaa-bbbb-cccc-123456789abc/api/0.log"
            ),
            Some(Workload {
                namespace: "shop",
                pod: "api-7d9f8b6c5-x2x4z",
                container: "api"
            })
        );
        assert_eq!(
            w("/tmp/x/pods/kube-system_coredns-1_u1/coredns/12.log.20261130-010203")
                .map(|w| (w.namespace, w.container)),
            Some(("kube-system", "coredns"))
        );
        for not in [
            "/var/log/containers/api-7d9f8b6c5-x2x4z_shop_api-0123abcd.log",
            "/var/log/pods/shop_api_uid/api/app.log",
            "/var/log/pods/shop_api/api/0.log",
            "/var/log/pods/shop_api_uid_x/api/0.log",
            "/var/log/other/shop_api_uid/api/0.log",
            "pods/_api_uid/api/0.log",
            "0.log",
        ] {
            assert_eq!(w(not), None, "{not}");
        }
    }

    #[test]
    fn the_source_text_is_the_path_then_the_workload_in_one_json_object() {
        let link = Path::new("/var/log/containers/web-1_prod_nginx-abc.log");
        let target = Path::new("/var/log/pods/prod_web-1_9f/nginx/1.log");
        let event = format!(
            "{{\"source\":{},\"offset\":1}}",
            source_json(link, Some(target))
        );
        let v: serde_json::Value = serde_json::from_str(&event).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"source": link.to_str().unwrap(), "offset": 1,
                "k8s": {"namespace": "prod", "pod": "web-1", "container": "nginx"}})
        );
        assert_eq!(source_json(Path::new("app.log"), None), "\"app.log\"");
    }
}
