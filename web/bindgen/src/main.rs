//! Generates the JavaScript bindings of the web app's `.wasm` (what `wasm-bindgen
//! --target web --out-dir DIR FILE` does), with the pinned `wasm-bindgen-cli-support`.
//!
//! Owns nothing but that one step; it must never download anything.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        eprintln!("usage: catalog-snapshot-bindgen INPUT.wasm OUT_DIR");
        return ExitCode::from(2);
    };
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    let result = bindgen.input_path(input).web(true).and_then(|b| {
        b.typescript(false)
            .omit_default_module_path(false)
            .generate(out_dir)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("catalog-snapshot-bindgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
