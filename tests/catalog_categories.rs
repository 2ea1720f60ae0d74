//! Remedy categories over the real catalog: the SPEC section 1 examples come
//! out as listed, and every per-code override still earns its place.

use faultline::catalog::build::build_from_dir;
use faultline::catalog::category::CategoryRules;
use faultline::catalog::{Category, Entry};
use std::collections::BTreeMap;
use std::path::Path;

fn built(rules: &CategoryRules) -> BTreeMap<String, Entry> {
    let entries = build_from_dir(Path::new("catalog/sources"), &|c, m, d, r| {
        rules.categorize(c, m, d, r)
    })
    .expect("catalog/sources builds");
    entries.into_iter().map(|e| (e.code.clone(), e)).collect()
}

#[test]
fn spec_examples_have_their_categories() {
    let rules = CategoryRules::builtin().unwrap();
    let catalog = built(&rules);
    let examples: [(Category, [&str; 3]); 7] = [
        (Category::Quota, ["IMG.0015", "Ecs.0001", "CSBS.9006"]),
        (Category::Access, ["Ecs.0023", "IMG.0087", "CSBS.9009"]),
        (Category::Retry, ["IMG.0060", "Common.0024", "CSBS.1002"]),
        (
            Category::ResourceState,
            ["IMG.0005", "IMG.0008", "Ecs.0031"],
        ),
        (Category::FixRequest, ["IMG.0002", "IMG.0013", "Ecs.0005"]),
        (Category::Unsupported, ["IMG.0089", "Ecs.0037", "CSBS.6010"]),
        (
            Category::ContactSupport,
            ["IMG.0014", "Ecs.0002", "BackupService.6212"],
        ),
    ];
    let mut wrong = Vec::new();
    for (category, codes) in examples {
        for code in codes {
            let e = catalog
                .get(code)
                .unwrap_or_else(|| panic!("{code} is in the catalog"));
            if e.category != category {
                let (_, why) = rules.explain(&e.code, &e.message, &e.description, &e.remedy);
                wrong.push(format!(
                    "{code}: {} instead of {category} ({why})",
                    e.category
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_override_names_a_catalog_code_and_changes_its_category() {
    let rules = CategoryRules::builtin().unwrap();
    let catalog = built(&rules);
    let mut problems = Vec::new();
    for o in rules.overrides() {
        let Some(e) = catalog.get(&o.code) else {
            problems.push(format!("{}: not in the catalog", o.code));
            continue;
        };
        let (ruled, why) = rules.by_rules(&e.message, &e.description, &e.remedy);
        if ruled == o.category {
            problems.push(format!(
                "{}: the rules already say {ruled} ({why}); drop the override",
                o.code
            ));
        }
        assert_eq!(e.category, o.category, "{}: the override applies", o.code);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn overrides_stay_few_and_every_category_is_used() {
    let rules = CategoryRules::builtin().unwrap();
    // Many overrides would mean the rules are not doing the work.
    assert!(rules.overrides().count() <= 30);
    let catalog = built(&rules);
    let mut counts = [0usize; 7];
    for e in catalog.values() {
        counts[e.category.index()] += 1;
    }
    for c in Category::ALL {
        assert!(counts[c.index()] > 0, "no code is {c}");
    }
}
