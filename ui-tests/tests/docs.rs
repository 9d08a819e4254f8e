//! The diagnostics quoted in the macros' docs (`ignition/src/docs/*.md`) are the ones the
//! fixtures pin: each `error...` line of a `text` block there appears, word for word, in
//! a `.stderr` file of `tests/ui/fail`.

use std::path::Path;

#[test]
fn the_docs_quote_the_pinned_diagnostics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stderr: String = std::fs::read_dir(root.join("tests/ui/fail"))
        .expect("fixtures")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "stderr"))
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    let mut quoted = 0;
    for doc in ["vim_driver.md", "resource_driver.md", "api_error.md"] {
        let text = std::fs::read_to_string(root.join("../ignition/src/docs").join(doc))
            .unwrap_or_else(|e| panic!("{doc}: {e}"));
        for block in text.split("```text\n").skip(1) {
            let block = block.split("```").next().unwrap();
            for line in block.lines().filter(|line| !line.trim().is_empty()) {
                assert!(
                    stderr.lines().any(|pinned| pinned == line),
                    "{doc} quotes a diagnostic no fixture pins:\n{line}"
                );
                quoted += 1;
            }
        }
    }
    assert!(
        quoted > 80,
        "only {quoted} lines quoted: did the docs' layout change?"
    );
}
