//! Man pages and completions are generated from the CLI and committed; this fails when they drift.
//! Regenerate with `scripts/gen-docs`.

use std::path::Path;

use crate::harness::Env;

const SHELLS: [(&str, &str); 3] = [("bash", "ifctl.bash"), ("zsh", "_ifctl"), ("fish", "ifctl.fish")];

#[test]
fn completions_match_the_committed_files() {
    let env = Env::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (shell, file) in SHELLS {
        let run = env.run(&["completions", shell]);
        run.expect_code(0);
        let committed = std::fs::read_to_string(root.join("completions").join(file)).unwrap_or_default();
        assert!(committed == run.stdout, "completions/{file} is stale: run scripts/gen-docs");
    }
}

#[test]
fn man_pages_match_the_committed_files() {
    let env = Env::new();
    let out = tempfile::tempdir().unwrap();
    env.run(&["man", out.path().to_str().unwrap()]).expect_code(0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let names = |dir: &Path| {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(names(out.path()), names(&root), "man/ has other pages: run scripts/gen-docs");
    for name in names(out.path()) {
        let fresh = std::fs::read(out.path().join(&name)).unwrap();
        let committed = std::fs::read(root.join(&name)).unwrap();
        assert!(fresh == committed, "man/{name} is stale: run scripts/gen-docs");
    }
}
