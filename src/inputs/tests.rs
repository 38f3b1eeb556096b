use super::*;

#[test]
fn only_the_extension_loses_its_case() {
    assert_eq!(extension_case_insensitive("*.JPG"), "*.[jJ][pP][gG]");
    assert_eq!(
        extension_case_insensitive("dir.d/DSC_*.jpeg"),
        "dir.d/DSC_*.[jJ][pP][eE][gG]"
    );
    assert_eq!(extension_case_insensitive("photos/*"), "photos/*");
    assert_eq!(extension_case_insensitive("a.d/*"), "a.d/*");
    assert_eq!(extension_case_insensitive("*.jp?"), "*.jp?");
}

#[test]
fn stdin_list_skips_blank_lines_and_carriage_returns() {
    let mut input = "a.jpg\r\n\n  \nb c.jpg\n".as_bytes();
    let paths = read_list(&mut input, false).unwrap();
    assert_eq!(
        paths,
        vec![PathBuf::from("a.jpg"), PathBuf::from("b c.jpg")]
    );
}

#[test]
fn escaped_bytes_show_no_control_characters() {
    assert_eq!(escaped(b"a.jpg\0b.jpg\0", 60), "a.jpg\\0b.jpg\\0");
    assert_eq!(escaped(b"\x1b[2J\xff\\", 60), "\\x1b[2J\\xff\\\\");
    assert_eq!(escaped("é\0x".as_bytes(), 2), "é\\0...");
    let mut line = &b"a.jpg\0b.jpg\0\n"[..];
    let err = read_list(&mut line, false).unwrap_err().to_string();
    assert!(err.contains("line 1") && err.contains("-0"), "{err}");
}

#[test]
fn nul_separated_list_keeps_names_exactly() {
    let mut input = &b"a.jpg\0line\nbreak.jpg\0 spaced .jpg\0\0"[..];
    let paths = read_list(&mut input, true).unwrap();
    assert_eq!(
        paths,
        vec![
            PathBuf::from("a.jpg"),
            PathBuf::from("line\nbreak.jpg"),
            PathBuf::from(" spaced .jpg")
        ]
    );
}

#[cfg(unix)]
#[test]
fn stdin_list_keeps_non_utf8_names() {
    use std::os::unix::ffi::OsStrExt;
    let mut input = &b"a.jpg\n\xffb.jpg\n"[..];
    let paths = read_list(&mut input, false).unwrap();
    assert_eq!(paths.len(), 2);
    assert_eq!(paths[1].as_os_str().as_bytes(), b"\xffb.jpg");
}

#[test]
fn pattern_that_matches_nothing_names_the_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = format!("{}/*.JPG", dir.path().display());
    let err = expand(std::slice::from_ref(&pattern), &mut &b""[..]).unwrap_err();
    assert!(err.to_string().contains(&pattern), "{err}");
}

#[test]
fn globs_dirs_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["b.JPG", "a.jpg", "c.txt", "d.jpeg"] {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    let d = dir.path().display();
    let inputs = vec![format!("{d}/*.jpg"), format!("{d}"), format!("{d}/./a.jpg")];
    let paths = expand(&inputs, &mut &b""[..]).unwrap();
    let names: Vec<_> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, ["a.jpg", "b.JPG", "d.jpeg"]);
}

#[test]
fn patterns_reach_into_matching_folders_only_and_never_cross_a_slash() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "2024-a/x.jpg",
        "2024-b/y.JPG",
        "2023/z.jpg",
        "2024-a/deep/w.jpg",
    ] {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }
    let d = dir.path().display();
    let names = |pattern: String| -> Vec<String> {
        expand(&[pattern], &mut &b""[..])
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect()
    };
    assert_eq!(
        names(format!("{d}/2024-*/*.jpg")),
        ["2024-a/x.jpg", "2024-b/y.JPG"]
    );
    assert_eq!(
        names(format!("{d}/**/*.jpg")),
        [
            "2023/z.jpg",
            "2024-a/deep/w.jpg",
            "2024-a/x.jpg",
            "2024-b/y.JPG"
        ]
    );
    assert!(expand(&[format!("{d}/*.jpg")], &mut &b""[..]).is_err());
}

#[test]
fn recursive_listing_and_exclusions() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.jpg", "sub/b.jpg", "sub/thumbs/c.jpg", "sub/c_thumb.JPG"] {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }
    let names = |opts: &ExpandOptions| -> Vec<String> {
        expand_with(&[dir.path()], &mut &b""[..], opts)
            .unwrap()
            .paths
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect()
    };
    assert_eq!(names(&ExpandOptions::default()), ["a.jpg"]);
    let recursive = ExpandOptions {
        recursive: true,
        ..Default::default()
    };
    assert_eq!(
        names(&recursive),
        ["a.jpg", "sub/b.jpg", "sub/c_thumb.JPG", "sub/thumbs/c.jpg"]
    );
    let excluding = ExpandOptions {
        exclude: vec!["thumbs".into(), "*_thumb.jpg".into()],
        ..recursive
    };
    assert_eq!(names(&excluding), ["a.jpg", "sub/b.jpg"]);
}

#[test]
fn a_folder_without_photos_says_so_and_counts_its_subfolders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("day1")).unwrap();
    std::fs::create_dir(dir.path().join("day2")).unwrap();
    let err = expand(&[dir.path()], &mut &b""[..]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("has no .jpg or .jpeg files"), "{text}");
    assert!(
        text.contains("its 2 subfolders are not searched without --recursive"),
        "{text}"
    );
}
