//! The declarations in src/lib.rs against the installed vae.h (the header the
//! build script found through pkg-config): every `VAE_API` function must be
//! declared with the same parameter and return types, every `VAE_*` constant
//! must exist (with the same value when the header gives a plain number),
//! and nothing may be declared that the header lacks.

use std::collections::BTreeMap;
use std::ffi::CStr;

const HEADER_PATH: &str = env!("LIBVAE_SYS_HEADER");
const SOURCE: &str = include_str!("../src/lib.rs");

/// Constants declared before the installed vae.h has them (statuses
/// announced for the next release); once it does, their values must agree.
const AHEAD_OF_HEADER: &[&str] = &["VAE_ERR_BUSY"];

/// A function signature as Rust type names: parameters, then the return
/// type ("" for none).
type Signature = (Vec<String>, String);

fn header_text() -> String {
    std::fs::read_to_string(HEADER_PATH)
        .unwrap_or_else(|e| panic!("cannot read {}: {}", HEADER_PATH, e))
}

fn strip_c_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('/', Some('*')) => {
                chars.next();
                // A space keeps the tokens on either side apart; the newlines
                // keep a directive before the comment on its own line.
                out.push(' ');
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    if c == '\n' {
                        out.push('\n');
                    }
                    prev = c;
                }
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Preprocessor directives (continuation lines joined) and the remaining
/// C code, of comment-free header text.
fn split_preprocessor(text: &str) -> (Vec<String>, String) {
    let mut directives = Vec::new();
    let mut code = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if !line.trim_start().starts_with('#') {
            code.push_str(line);
            code.push('\n');
            continue;
        }
        let mut directive = line.to_string();
        while directive.ends_with('\\') {
            directive.pop();
            directive.push_str(lines.next().unwrap_or(""));
        }
        directives.push(directive);
    }
    (directives, code)
}

/// The header's constants: `#define VAE_...` with a value, except the
/// export macro.
fn header_constants(directives: &[String]) -> BTreeMap<String, String> {
    let mut constants = BTreeMap::new();
    for directive in directives {
        let body = directive.trim_start().trim_start_matches('#').trim_start();
        let body = match body.strip_prefix("define") {
            Some(b) if b.starts_with(char::is_whitespace) => b.trim(),
            _ => continue,
        };
        let (name, value) = body.split_at(body.find(char::is_whitespace).unwrap_or(body.len()));
        if name.starts_with("VAE_") && name != "VAE_API" && !value.trim().is_empty() {
            constants.insert(
                name.to_string(),
                value.split_whitespace().collect::<Vec<_>>().join(" "),
            );
        }
    }
    constants
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits "const char *name" into ("const char *", "name").
fn split_trailing_ident(text: &str) -> (&str, &str) {
    let text = text.trim();
    let start = text.trim_end_matches(is_ident_char).len();
    (&text[..start], &text[start..])
}

/// The Rust spelling of a C type of the header.
fn rust_type(c_type: &str) -> String {
    let first_star = c_type.find('*').unwrap_or(c_type.len());
    assert!(
        !c_type[first_star..].contains("const"),
        "C type {:?}: a const pointer is not handled by this test",
        c_type
    );
    let words: Vec<&str> = c_type[..first_star].split_whitespace().collect();
    let pointee_const = words.contains(&"const");
    let base: Vec<&str> = words.into_iter().filter(|w| *w != "const").collect();
    assert_eq!(base.len(), 1, "C type {:?} has no single base type", c_type);
    let stars = c_type.matches('*').count();
    let base = match base[0] {
        "void" if stars == 0 => return String::new(),
        "void" => "c_void",
        "char" => "c_char",
        "int32_t" => "i32",
        "int64_t" => "i64",
        "uint64_t" => "u64",
        "size_t" => "usize",
        "float" => "f32",
        "double" => "f64",
        handle @ ("vae_graph" | "vae_model" | "vae_adam") => handle,
        other => panic!(
            "C type {:?}: no Rust equivalent known for {:?}",
            c_type, other
        ),
    };
    if stars == 0 {
        return base.to_string();
    }
    let mut ty = format!("{} {}", if pointee_const { "*const" } else { "*mut" }, base);
    for _ in 1..stars {
        ty = format!("*mut {}", ty);
    }
    ty
}

fn header_functions(code: &str) -> BTreeMap<String, Signature> {
    let mut functions = BTreeMap::new();
    for (at, _) in code.match_indices("VAE_API") {
        let decl = &code[at + "VAE_API".len()..];
        let decl = &decl[..decl.find(';').expect("declaration without ';'")];
        let open = decl.find('(').expect("declaration without '('");
        let close = decl.rfind(')').expect("declaration without ')'");
        let (ret, name) = split_trailing_ident(&decl[..open]);
        let params = decl[open + 1..close].trim();
        let params = if params == "void" {
            Vec::new()
        } else {
            params
                .split(',')
                .map(|p| rust_type(split_trailing_ident(p).0))
                .collect()
        };
        functions.insert(name.to_string(), (params, rust_type(ret)));
    }
    functions
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn strip_rust_comments(text: &str) -> String {
    text.lines()
        .map(|l| &l[..l.find("//").unwrap_or(l.len())])
        .collect::<Vec<_>>()
        .join("\n")
}

fn rust_functions(source: &str) -> BTreeMap<String, Signature> {
    let start = source.find("extern \"C\" {").expect("no extern block") + "extern \"C\" {".len();
    let block = &source[start..];
    let block = &block[..block.find('}').expect("extern block not closed")];
    let mut functions = BTreeMap::new();
    for decl in block.split(';').map(str::trim).filter(|d| !d.is_empty()) {
        let decl = decl
            .strip_prefix("pub fn ")
            .unwrap_or_else(|| panic!("not a function: {}", decl));
        let open = decl.find('(').expect("function without '('");
        let close = decl.rfind(')').expect("function without ')'");
        let params = decl[open + 1..close]
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| normalize(&p[p.find(':').expect("parameter without type") + 1..]))
            .collect();
        let ret = decl[close + 1..].trim().trim_start_matches("->");
        functions.insert(decl[..open].trim().to_string(), (params, normalize(ret)));
    }
    functions
}

fn rust_constants(source: &str) -> BTreeMap<String, String> {
    let mut constants = BTreeMap::new();
    // Each item ends at a ';', so a piece holds at most one constant.
    for piece in source.split(';') {
        if let Some(at) = piece.find("pub const ") {
            let item = &piece[at + "pub const ".len()..];
            let name = &item[..item.find(':').expect("constant without type")];
            let value = &item[item.find('=').expect("constant without value") + 1..];
            constants.insert(name.trim().to_string(), normalize(value));
        }
    }
    constants
}

/// The names of `a` missing from `b`, as one line per name.
fn missing<V>(a: &BTreeMap<String, V>, b: &BTreeMap<String, V>, what: &str) -> Vec<String> {
    a.keys()
        .filter(|k| !b.contains_key(*k))
        .map(|k| format!("{} {}", what, k))
        .collect()
}

#[test]
fn every_header_function_is_declared_with_its_types() {
    let (_, code) = split_preprocessor(&strip_c_comments(&header_text()));
    let header = header_functions(&code);
    let rust = rust_functions(&strip_rust_comments(SOURCE));
    // A parser that found nothing would make every check below vacuous.
    assert!(
        header.len() > 50,
        "only {} VAE_API functions parsed from {}",
        header.len(),
        HEADER_PATH
    );

    let mut problems = missing(&header, &rust, "not declared in libvae-sys:");
    problems.extend(missing(
        &rust,
        &header,
        "declared in libvae-sys but not in vae.h:",
    ));
    for (name, want) in &header {
        if let Some(have) = rust.get(name) {
            if have != want {
                problems.push(format!(
                    "{}: vae.h has {:?}, libvae-sys has {:?}",
                    name, want, have
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "libvae-sys against {}:\n{}",
        HEADER_PATH,
        problems.join("\n")
    );
}

#[test]
fn every_header_constant_is_declared_with_its_value() {
    let (directives, _) = split_preprocessor(&strip_c_comments(&header_text()));
    let header = header_constants(&directives);
    let rust = rust_constants(&strip_rust_comments(SOURCE));
    assert!(
        header.len() > 20,
        "only {} VAE_ constants parsed from {}",
        header.len(),
        HEADER_PATH
    );

    let mut problems = missing(&header, &rust, "not declared in libvae-sys:");
    let mut known = header.clone();
    for name in AHEAD_OF_HEADER {
        known
            .entry(name.to_string())
            .or_insert_with(|| rust[*name].clone());
    }
    problems.extend(missing(
        &rust,
        &known,
        "declared in libvae-sys but not in vae.h:",
    ));
    for (name, c_value) in &header {
        // Expressions (the version number, the metadata limit) are only
        // required to exist: evaluating C here would be a second compiler.
        if let (Ok(want), Some(have)) = (c_value.parse::<i64>(), rust.get(name)) {
            if have.parse::<i64>() != Ok(want) {
                problems.push(format!(
                    "{}: vae.h has {}, libvae-sys has {}",
                    name, want, have
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "libvae-sys against {}:\n{}",
        HEADER_PATH,
        problems.join("\n")
    );
}

#[test]
fn the_parser_maps_c_types() {
    assert_eq!(rust_type("const int64_t *"), "*const i64");
    assert_eq!(rust_type("vae_graph **"), "*mut *mut vae_graph");
    assert_eq!(rust_type("const char *"), "*const c_char");
    assert_eq!(rust_type("void *"), "*mut c_void");
    assert_eq!(rust_type("void"), "");
    assert_eq!(rust_type("size_t"), "usize");
}

#[test]
fn the_linked_library_is_the_declared_version() {
    // SAFETY: both calls take no arguments and return static data.
    let (number, string) = unsafe {
        (
            libvae_sys::vae_version_number(),
            CStr::from_ptr(libvae_sys::vae_version_string()),
        )
    };
    assert_eq!(number, libvae_sys::VAE_VERSION_NUMBER);
    let want = format!(
        "{}.{}.{}",
        libvae_sys::VAE_VERSION_MAJOR,
        libvae_sys::VAE_VERSION_MINOR,
        libvae_sys::VAE_VERSION_PATCH
    );
    assert_eq!(string.to_str(), Ok(want.as_str()));
}
