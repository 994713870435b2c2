"""CODEOWNERS parsing and matching: table tests from GitHub's documented examples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.approvals.codeowners import (
    CODEOWNERS_LOCATIONS,
    MAX_CODEOWNERS_BYTES,
    CodeownersTooLarge,
    load,
    parse,
)

# (pattern, path, owned?) -- anchored/unanchored, *, **, ?, directories.
MATCH_TABLE: list[tuple[str, str, bool]] = [
    # unanchored single name: any depth, and everything below a directory of that name
    ("foo", "foo", True),
    ("foo", "a/foo", True),
    ("foo", "a/foo/b", True),
    ("foo", "foo.txt", False),
    ("foo", "a/foobar", False),
    # anchored with a leading slash
    ("/foo", "foo", True),
    ("/foo", "foo/bar/baz", True),
    ("/foo", "a/foo", False),
    ("/foo", "fool", False),
    # a slash in the middle anchors too
    ("foo/bar", "foo/bar", True),
    ("foo/bar", "foo/bar/baz", True),
    ("foo/bar", "x/foo/bar", False),
    ("foo/bar", "foo/bart", False),
    # directory-only (trailing slash): files below, never a file of that name
    ("logs/", "logs", False),
    ("logs/", "logs/a.txt", True),
    ("logs/", "build/logs/a.txt", True),
    ("/build/logs/", "build/logs/a/b.txt", True),
    ("/build/logs/", "x/build/logs/a.txt", False),
    ("apps/", "deep/apps/x.py", True),
    # * never crosses a slash; extension patterns match at any depth
    ("*.js", "a.js", True),
    ("*.js", "src/deep/a.js", True),
    ("*.js", "a.jsx", False),
    ("*", "anything/at/all", True),
    ("f*", "foo/bar", True),
    ("f*", "bar/baz", False),
    # GitHub's documented example: docs/* owns direct children only
    ("docs/*", "docs/getting-started.md", True),
    ("docs/*", "docs/build-app/troubleshooting.md", False),
    ("/*", "README.md", True),
    ("/*", "src/a.py", False),
    ("foo/*.txt", "foo/a.txt", True),
    ("foo/*.txt", "foo/b/a.txt", False),
    ("foo/*/baz", "foo/bar/baz", True),
    ("foo/*/baz", "foo/baz", False),
    # ? is one character, never a slash
    ("f?o", "foo", True),
    ("f?o", "fo", False),
    ("f?o", "f/o", False),
    # **
    ("**/logs", "logs/a", True),
    ("**/logs", "deeply/nested/logs/a", True),
    ("**/logs", "logs2/a", False),
    ("foo/**", "foo/a/b", True),
    ("foo/**", "foo", False),
    ("foo/**/bar", "foo/bar", True),
    ("foo/**/bar", "foo/a/b/bar/c", True),
    ("foo/**/bar", "x/foo/bar", False),
    ("releases/fraud-risk/**", "releases/fraud-risk/2026-01-01/release.yaml", True),
    ("releases/fraud-risk/**", "releases/fraud-risk-2/model.yaml", False),
    # case-sensitive
    ("Docs/", "docs/a.md", False),
    ("*.MD", "a.md", False),
    # spaces escaped with a backslash
    ("my\\ dir/", "my dir/a", True),
]


@pytest.mark.parametrize(("pattern", "path", "owned"), MATCH_TABLE)
def test_pattern_table(pattern: str, path: str, owned: bool) -> None:
    co = parse(f"{pattern} @owner\n")
    assert co.errors == ()
    assert (co.owners_of(path) == ("@owner",)) is owned


def test_last_matching_rule_wins_and_empty_owners_means_none() -> None:
    co = parse(
        "*       @global-owner1 @global-owner2\n*.js    @js-owner\n/apps/  @octocat\n/apps/github\n"
    )
    assert co.owners_of("README.md") == ("@global-owner1", "@global-owner2")
    assert co.owners_of("src/a.js") == ("@js-owner",)
    assert co.owners_of("apps/a.js") == ("@octocat",)
    assert co.owners_of("apps/github/x.py") == ()
    rule = co.rule_for("apps/github/x.py")
    assert rule is not None and rule.line == 4


def test_inline_comment_never_grants_ownership() -> None:
    co = parse("*.js @js-owner # note @someone\n/docs/ @doctocat #@evil\n")
    assert co.errors == ()
    assert co.owners_of("a.js") == ("@js-owner",)
    assert co.owners_of("docs/a.md") == ("@doctocat",)
    assert "@someone" not in co.owners_of("a.js")


def test_owner_forms() -> None:
    co = parse("* @alice @acme/ml-leads docs@example.com jane.smith@example.com @jane.smith\n")
    assert co.errors == ()
    assert co.owners_of("x") == (
        "@alice",
        "@acme/ml-leads",
        "docs@example.com",
        "jane.smith@example.com",
        "@jane.smith",
    )


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("!secret.txt @a", "negation"),
        ("*.[ch] @a", "character ranges"),
        ("\\#notacomment @a", "escaping a leading '#'"),
        ("foo\\*bar @a", "backslash"),
        ("*** @a", "three consecutive"),
        ("*.js alice", "not @login"),
        ("*.js @", "not @login"),
    ],
)
def test_invalid_lines_are_skipped_and_reported_with_line_number(line: str, fragment: str) -> None:
    co = parse(f"# header\n* @base\n{line}\n")
    assert len(co.errors) == 1
    assert co.errors[0].line == 3
    assert fragment in co.errors[0].message
    # the invalid line is skipped: the earlier rule still decides
    assert co.owners_of("x.js") == ("@base",)
    assert co.error_lines()[0].startswith("CODEOWNERS:3: ")


def test_every_error_is_collected() -> None:
    co = parse("!a @x\n[b] @x\n* @ok\nc nobody\n")
    assert [e.line for e in co.errors] == [1, 2, 4]
    assert [r.line for r in co.rules] == [3]


def test_three_megabytes_refused() -> None:
    big = b"# " + b"x" * (MAX_CODEOWNERS_BYTES - 3) + b"\n"
    assert len(big) == MAX_CODEOWNERS_BYTES
    with pytest.raises(CodeownersTooLarge, match="3 MB"):
        parse(big)
    parse(big[:-2] + b"\n")  # one byte under is read


def test_lookup_order_first_found_wins() -> None:
    files = {
        "CODEOWNERS": b"* @root\n",
        "docs/CODEOWNERS": b"* @docs\n",
        ".github/CODEOWNERS": b"* @dotgithub\n",
    }
    assert CODEOWNERS_LOCATIONS == (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
    co = load(files.get)
    assert co is not None and co.path == ".github/CODEOWNERS"
    del files[".github/CODEOWNERS"]
    co = load(files.get)
    assert co is not None and co.owners_of("x") == ("@root",)
    del files["CODEOWNERS"]
    co = load(files.get)
    assert co is not None and co.path == "docs/CODEOWNERS"
    del files["docs/CODEOWNERS"]
    assert load(files.get) is None


def test_not_utf8_is_an_error() -> None:
    co = parse(b"* @a\n\xff\xfe\n")
    assert co.rules == () and co.errors[0].message.startswith("not UTF-8")


segment = st.sampled_from(["a", "b", "docs", "x.md", "*", "**", "*.md", "a?", "releases"])
pattern_st = st.builds(
    lambda lead, segs, trail: ("/" if lead else "") + "/".join(segs) + ("/" if trail else ""),
    st.booleans(),
    st.lists(segment, min_size=1, max_size=4),
    st.booleans(),
)
path_st = st.lists(
    st.sampled_from(["a", "b", "docs", "x.md", "releases", "c"]), min_size=1, max_size=5
).map("/".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(pattern_st, min_size=1, max_size=12), st.lists(path_st, min_size=1, max_size=10))
def test_property_index_agrees_with_a_plain_last_match_scan(
    patterns: list[str], paths: list[str]
) -> None:
    text = "".join(f"{p} @o{i}\n" for i, p in enumerate(patterns))
    co = parse(text)
    for path in paths:
        naive = next((r for r in reversed(co.rules) if r.matches(path)), None)
        assert co.rule_for(path) == naive, (path, text)


def test_byte_order_mark_is_not_part_of_the_first_pattern() -> None:
    co = parse("\ufeff* @a\n".encode())
    assert co.errors == () and co.owners_of("x") == ("@a",)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab*?/#!\\[] @.\n\t-_x")), max_size=200))
def test_property_parser_never_raises_and_locates_every_error(text: str) -> None:
    co = parse(text)
    lines = text.splitlines()
    assert len(co.rules) + len(co.errors) <= len(lines)
    for error in co.errors:
        assert 1 <= error.line <= len(lines)
        assert error.source == lines[error.line - 1]
    for rule in co.rules:
        assert not rule.pattern.startswith(("!", "#")) and "[" not in rule.pattern
        co.owners_of("a/b/x")  # every accepted pattern compiles
