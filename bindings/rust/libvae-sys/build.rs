//! Finds the installed libvae with the `pkg-config` program and tells cargo
//! how to link it. The program rather than the pkg-config crate, because this
//! crate takes nothing from a registry (it must build offline).
//!
//! Set PKG_CONFIG_PATH to `<prefix>/lib/pkgconfig` for a libvae installed
//! outside pkg-config's default directories, and PKG_CONFIG to use another
//! pkg-config program.

use std::env;
use std::process::Command;

fn pkg_config(args: &[&str]) -> String {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let output = Command::new(&program).args(args).arg("vae").output();
    match output {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout)
            .unwrap_or_else(|_| panic!("{} {:?} vae printed non-UTF-8 output", program, args)),
        Ok(out) => panic!(
            "libvae not found: `{} {} vae` failed: {}\n\
             Install libvae, or set PKG_CONFIG_PATH to <prefix>/lib/pkgconfig.",
            program,
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!("cannot run `{}` to find libvae: {}", program, e),
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
