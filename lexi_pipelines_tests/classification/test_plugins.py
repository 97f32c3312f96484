"""Plugin registry: names, parameters, availability, and every available tokenizer."""

from __future__ import annotations

import json

import pytest

from lexi_pipelines.classification.pipeline import PipelineConfig, build_pipeline
from lexi_pipelines.classification.plugins import (
    Param,
    PluginError,
    PluginSpec,
    Registry,
    registry,
    tokenize_all,
)

EXPECTED = {
    "tokenizer": ["huggingface", "icu", "sentencepiece", "spacy", "unicode"],
    "features": ["bow", "hashing", "sbert", "tfidf"],
    "classifier": ["logreg", "svm", "transformer", "xgboost"],
}
OPTIONAL = [
    ("tokenizer", "icu", "icu"),
    ("tokenizer", "spacy", "spacy"),
    ("tokenizer", "sentencepiece", "sentencepiece"),
    ("classifier", "xgboost", "xgboost"),
]


def test_registered_names() -> None:
    for kind, names in EXPECTED.items():
        assert registry.names(kind) == names  # type: ignore[arg-type]


def test_unknown_name_lists_registered_names() -> None:
    with pytest.raises(PluginError) as info:
        registry.create("tokenizer", "whitespace")
    message = str(info.value)
    assert "'whitespace'" in message
    for name in EXPECTED["tokenizer"]:
        assert name in message


def test_unknown_parameter_lists_accepted_parameters() -> None:
    with pytest.raises(PluginError) as info:
        registry.resolve("classifier", "svm", {"C": 1.0, "kernel": "rbf"})
    message = str(info.value)
    assert "kernel" in message
    for accepted in ("C: float = 1.0", "calibration", "scale", "class_weight", "max_iter"):
        assert accepted in message


@pytest.mark.parametrize(
    ("kind", "name", "params", "fragment"),
    [
        ("classifier", "svm", {"C": "big"}, "must be float"),
        ("classifier", "svm", {"C": -1.0}, "must be > 0"),
        ("classifier", "svm", {"calibration": "platt"}, "one of"),
        ("features", "tfidf", {"min_df": True}, "must be int"),
        ("features", "tfidf", {"max_df": 1.5}, "(0, 1]"),
        ("tokenizer", "unicode", {"pattern": "(["}, "not a valid regular expression"),
    ],
)
def test_invalid_parameter_values(
    kind: str, name: str, params: dict[str, object], fragment: str
) -> None:
    with pytest.raises(PluginError, match=fragment.replace("(", r"\(").replace("]", r"\]")):
        registry.resolve(kind, name, params)  # type: ignore[arg-type]


def test_int_is_accepted_for_float_parameters() -> None:
    _, params = registry.resolve("classifier", "svm", {"C": 2})
    assert params["C"] == 2.0 and isinstance(params["C"], float)


def test_unavailable_plugin_gives_install_hint() -> None:
    fresh = Registry()
    fresh.register(
        PluginSpec(
            kind="tokenizer",
            name="exotic",
            description="needs a package nobody has",
            factory=object,
            params=(Param("level", int, 1, "a level"),),
            requires=(("lexi_no_such_module_x", "no-such-dist"),),
            extra="exotic",
        )
    )
    spec = fresh.get("tokenizer", "exotic")
    assert not spec.is_available()
    assert spec.missing() == ["no-such-dist"]
    with pytest.raises(PluginError) as info:
        fresh.create("tokenizer", "exotic")
    assert "no-such-dist" in str(info.value)
    assert "pip install 'lexi-pipelines[exotic]'" in str(info.value)
    # A bad parameter is reported even when the package is missing: names come first.
    with pytest.raises(PluginError, match="accepted: level"):
        fresh.resolve("tokenizer", "exotic", {"depth": 2})


@pytest.mark.parametrize(("kind", "name", "extra"), OPTIONAL)
def test_optional_plugins_report_missing_packages(kind: str, name: str, extra: str) -> None:
    spec = registry.get(kind, name)  # type: ignore[arg-type]
    assert spec.install_hint == f"pip install 'lexi-pipelines[{extra}]'"
    if spec.is_available():
        pytest.skip(f"{name} is installed here")
    with pytest.raises(PluginError, match=rf"lexi-pipelines\[{extra}\]"):
        registry.create(kind, name)  # type: ignore[arg-type]


def test_bad_config_fails_before_building_anything() -> None:
    with pytest.raises(PluginError, match="registered"):
        build_pipeline(PipelineConfig(classifier="forest"))
    with pytest.raises(PluginError, match="accepted"):
        build_pipeline(PipelineConfig(features_params={"ngrams": 2}))
    with pytest.raises(PluginError, match="accepted"):
        PipelineConfig.from_dict({"tokeniser": "unicode"})


def test_describe_is_json_serializable() -> None:
    described = registry.describe()
    json.dumps(described)
    svm = next(p for p in described["classifier"] if p["name"] == "svm")
    assert svm["available"] is True
    assert {p["name"] for p in svm["params"]} >= {"C", "calibration", "scale"}


SAMPLE = "Naïve café owners can't resist: 42 croissants, Zürich-style!"


def test_unicode_tokenizer() -> None:
    tok = registry.create("tokenizer", "unicode")
    assert tok.tokenize(SAMPLE) == [
        "naïve", "café", "owners", "can", "t", "resist", "42", "croissants", "zürich", "style",
    ]  # fmt: skip
    cased = registry.create("tokenizer", "unicode", {"lowercase": False, "min_length": 3})
    assert cased.tokenize(SAMPLE)[:2] == ["Naïve", "café"]
    assert "42" not in cased.tokenize(SAMPLE)
    assert tokenize_all(tok, [SAMPLE, ""]) == [tok.tokenize(SAMPLE), []]


def test_huggingface_tokenizer_word_pieces() -> None:
    tok = registry.create("tokenizer", "huggingface")
    tokens = tok.tokenize("Tokenization of unbelievable texts")
    # The MiniLM (BERT uncased) vocabulary: lower-cased word pieces, no [CLS]/[SEP].
    assert tokens[0] == "token" and "##ization" in tokens
    assert "[CLS]" not in tokens and all(t == t.lower() for t in tokens)
    long_text = "word " * 1000
    assert len(tok.tokenize(long_text)) == 1000  # no 128-token truncation
    assert tokenize_all(tok, ["a b", "c"]) == [["a", "b"], ["c"]]


@pytest.mark.parametrize("name", ["icu", "spacy", "sentencepiece"])
def test_optional_tokenizers_when_installed(name: str) -> None:
    spec = registry.get("tokenizer", name)
    if not spec.is_available():
        pytest.skip(f"{name} not installed ({spec.install_hint})")
    tok = registry.create("tokenizer", name)
    if name == "sentencepiece":
        tok.fit([SAMPLE, "more text to learn pieces from", "café croissants"] * 30)
    tokens = tok.tokenize(SAMPLE)
    assert tokens and all(isinstance(t, str) for t in tokens)
    joined = "".join(tokens).replace("▁", "")
    assert "caf" in joined
