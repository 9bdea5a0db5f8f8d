//! The same mistakes read the same in every language: what this crate
//! prints for each mistake of docs/ffi.md's error table is the table's line.
//! (A binary of its own: it changes the working directory.)

use libvae::{Graph, Likelihood, Model};
use std::collections::BTreeMap;

const FFI_DOC: &str = include_str!("../../../../docs/ffi.md");

/// {mistake: line} of the table's Rust rows, after checking every language
/// prints the same line for a mistake.
fn table() -> BTreeMap<String, String> {
    let begin = FFI_DOC
        .find("<!-- begin error-table -->")
        .expect("no error table");
    let end = FFI_DOC
        .find("<!-- end error-table -->")
        .expect("no end of the table");
    let mut all: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for row in FFI_DOC[begin..end]
        .lines()
        .filter(|l| l.starts_with("| "))
        .skip(2)
    {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        if let Some(code) = cells[2].strip_prefix('`').and_then(|c| c.strip_suffix('`')) {
            all.entry(cells[0].to_string())
                .or_default()
                .insert(cells[1].to_string(), code.to_string());
        }
    }
    for (mistake, lines) in &all {
        let mut distinct: Vec<&String> = lines.values().collect();
        distinct.dedup();
        assert_eq!(distinct.len(), 1, "{}: {:?}", mistake, lines);
    }
    all.into_iter()
        .filter_map(|(mistake, mut lines)| lines.remove("Rust").map(|l| (mistake, l)))
        .collect()
}

fn mlp(inputs: i64, outputs: i64) -> Graph {
    let mut g = Graph::new().unwrap();
    let x = g.input(&[inputs]).unwrap();
    let h = g.dense(x, 16).unwrap();
    let h = g.relu(h).unwrap();
    let out = g.dense(h, outputs).unwrap();
    g.set_output(out).unwrap();
    g
}

#[test]
fn rust_prints_the_table() {
    let mut model = Model::new(&mlp(8, 16), &mlp(2, 8), 2, Likelihood::Bernoulli, 1).unwrap();
    let mut nan = vec![0.0f32; 16];
    nan[3] = f32::NAN;
    let dir = std::env::temp_dir().join(format!("libvae-messages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::env::set_current_dir(&dir).unwrap();
    std::fs::write("bad.vae", "not a libvae model\n".repeat(4)).unwrap();
    let mut printed = BTreeMap::new();
    printed.insert(
        "wrong size".to_string(),
        model.elbo(&[0.0; 15]).unwrap_err().to_string(),
    );
    printed.insert(
        "NaN input".to_string(),
        model.elbo(&nan).unwrap_err().to_string(),
    );
    printed.insert(
        "bad file".to_string(),
        Model::load("bad.vae").unwrap_err().to_string(),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(printed, table());
}
