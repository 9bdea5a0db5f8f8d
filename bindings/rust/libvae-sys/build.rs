//! Finds the installed libvae with the `pkg-config` program and tells cargo
//! how to link it. The program rather than the pkg-config crate, because this
//! crate takes nothing from a registry (it must build offline).
//!
//! Set PKG_CONFIG_PATH to `<prefix>/lib/pkgconfig` for a libvae installed
//! outside pkg-config's default directories, and PKG_CONFIG to use another
//! pkg-config program.

use std::env;
use std::process::{exit, Command};

/// Stops the build with one line that says what to set: a panic would add
/// a backtrace that says nothing about libvae.
fn fail(why: &str) -> ! {
    eprintln!("error: libvae-sys cannot find libvae: {}", why);
    exit(1)
}

fn pkg_config(args: &[&str]) -> String {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    match Command::new(&program).args(args).arg("vae").output() {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout).unwrap_or_else(|_| {
            fail(&format!(
                "`{} {} vae` printed non-UTF-8 text",
                program,
                args.join(" ")
            ))
        }),
        Ok(_) => fail(&match env::var("PKG_CONFIG_PATH") {
            Ok(path) if !path.is_empty() => format!(
                "{} finds no vae.pc in PKG_CONFIG_PATH={} nor its default \
                 directories; set PKG_CONFIG_PATH to PREFIX/lib/pkgconfig of \
                 the prefix libvae is installed in",
                program, path
            ),
            _ => format!(
                "{} finds no vae.pc; set PKG_CONFIG_PATH to PREFIX/lib/pkgconfig \
                 of the prefix libvae is installed in (or install the \
                 libvae-dev package)",
                program
            ),
        }),
        Err(e) => fail(&format!(
            "cannot run {} ({}); install pkg-config or set PKG_CONFIG to one",
            program, e
        )),
    }
}

fn main() {
    for var in [
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={}", var);
    }
    let pc_dir = pkg_config(&["--variable=pcfiledir"]);
    println!("cargo:rerun-if-changed={}/vae.pc", pc_dir.trim());

    for flag in pkg_config(&["--libs", "--cflags"]).split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={}", lib);
        }
    }

    // pkg-config leaves system include directories out of --cflags, so the
    // header is located through the variable, which is always set.
    let header = format!("{}/vae.h", pkg_config(&["--variable=includedir"]).trim());
    println!("cargo:rerun-if-changed={}", header);
    // Dependents' build scripts see it as DEP_VAE_HEADER; this crate's tests
    // compare their declarations against it.
    println!("cargo:header={}", header);
    println!("cargo:rustc-env=LIBVAE_SYS_HEADER={}", header);
}
