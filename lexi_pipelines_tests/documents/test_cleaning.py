"""clean_text: the cleaning rules every extracted text goes through."""

from __future__ import annotations

import pytest

from lexi_pipelines.documents.extraction.cleaning import clean_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ab\x00c", "abc"),
        ("\x00\x00", ""),
        ("one\r\ntwo", "one\ntwo"),
        ("one\rtwo", "one\ntwo"),
        ("one\ftwo", "one\ntwo"),
        ("one\vtwo", "one\ntwo"),
        ("one\u2028two\u2029three", "one\ntwo\nthree"),
        ("one\r\n\r\ntwo", "one\n\ntwo"),
    ],
    ids=[
        "nul",
        "only-nuls",
        "crlf",
        "cr",
        "form-feed",
        "vertical-tab",
        "unicode-separators",
        "crlf-paragraph",
    ],
)
def test_control_characters_and_line_breaks(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\n\n\nb", "a\n\nb"),
        ("a\n\n\n\n\n\nb", "a\n\nb"),
        ("a\n\nb", "a\n\nb"),
        ("a\nb", "a\nb"),
        ("a\n \n\t\n \nb", "a\n\nb"),  # whitespace-only lines count as blank
        ("a\r\n\r\n\r\n\r\nb", "a\n\nb"),
        ("\n\n\na\n\n\n", "a"),
    ],
)
def test_blank_runs_collapse_to_one_blank_line(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    "page_line",
    ["12", "  12  ", "- 12 -", "-12-", "\u2013 7 \u2013", "Page 3", "page 3", "PAGE 3",
     "Page 3 of 30", "page 12 of 300", "12/30", "12 / 30", "p. 4", "Page - 3 -"],
)  # fmt: skip
def test_page_number_lines_are_dropped(page_line: str) -> None:
    text = f"End of the first page.\n{page_line}\nStart of the second page."
    assert clean_text(text) == "End of the first page.\n\nStart of the second page."


@pytest.mark.parametrize(
    "line",
    [
        "Section 12 applies to all parties.",
        "In 2012 the court held otherwise.",
        "See page 3 of the exhibit.",
        "12 Angry Men",
        "Page 3 is missing",
        "Article 5(2)",
        "Call 555-1234 now",
        "1.",
        "12.5",
        "Page three",
    ],
)
def test_lines_with_numbers_inside_text_are_kept(line: str) -> None:
    text = f"Before.\n{line}\nAfter."
    assert clean_text(text) == text


def test_page_number_at_start_and_end_of_text() -> None:
    assert clean_text("1\nBody text\n2") == "Body text"
    assert clean_text("Page 1 of 2\n\nBody\n\nPage 2 of 2") == "Body"


def test_only_page_numbers_clean_to_nothing() -> None:
    assert clean_text("1\n\f2\n\f3") == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("trailing   \nspaces\t\t\nhere ", "trailing\nspaces\nhere"),
        ("tab\t\nx", "tab\nx"),
        ("  indented first line\n    indented second", "indented first line\n    indented second"),
        ("a \t \n\n\n b", "a\n\n b"),
    ],
)
def test_trailing_whitespace_trimmed_indentation_inside_kept(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_inner_spaces_and_tabs_are_kept() -> None:
    assert clean_text("Name\tValue\nA  B") == "Name\tValue\nA  B"


def test_clean_text_is_idempotent() -> None:
    raw = "Title \r\n\r\n\r\n- 1 -\r\nBody\x00 text\fPage 2 of 9\n\n\n\nMore  \n"
    once = clean_text(raw)
    assert once == "Title\n\nBody text\n\nMore"
    assert clean_text(once) == once


def test_empty_text() -> None:
    assert clean_text("") == ""
    assert clean_text(" \n \n ") == ""
