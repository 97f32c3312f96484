"""Classification benchmark on 20 Newsgroups "bydate" (train 11,314 / test 7,532).

1. The default pipeline (``unicode`` + ``tfidf`` + ``svm``): train seconds, accuracy,
   macro-F1, prediction docs/s (medians over ``--repeat`` runs: the machine is shared).
2. In the same run, a plain scikit-learn ``TfidfVectorizer()`` + ``LinearSVC()`` baseline,
   with the time ratio and accuracy delta. Targets on 2 cores: accuracy >= 0.87, training
   <= 10 s and <= 1.2x the baseline, >= 5,000 predictions/s.
3. Every installed plugin combination (time, accuracy). ``sbert`` and ``transformer`` are slow
   on CPU, so without ``--full`` they run on a subset (said in the output).

How the default was chosen (TRAIN split only: the last quarter of each group, by message
number, held out -- like bydate's later test posts -- and 3-fold stratified CV of train):
- sublinear tf: +1.2 points on both (0.885 -> 0.899 held out; 0.918 -> 0.930 CV);
- tokens ``\\w+`` vs ``\\w\\w+`` vs letters only vs joiners kept (e-mails, "can't"): all
  within 0.3 points; ``\\w+`` best in CV and the fastest to match;
- max_df 0.5 / 0.2, min_df 2 / 3: no gain (min_df a loss of 0.3-0.5), kept all terms;
- C in {0.3, 0.5, 1, 1.5, 2}: 1 (0.5 loses 0.3 in CV);
- class_weight="balanced" + unsmoothed idf: +0.2 on both (0.9006 held out, 0.9320 CV);
- ridge, SGD, hinge loss: no better; word bigrams (min_df 2): +0.3-0.5 held out but 3x the
  fit time, over the time target;
- softmax scale of the SVM margins for confidences: 6 (held-out log-loss 0.39, ECE 0.03);
- a Complement Naive Bayes score mixed into the SVM's (each centered per document and divided
  by its spread on the training set): weight 0.3, alpha 0.1, +0.3 points in 3-fold CV of
  train over two seeds (0.9302 -> 0.9333), softmax scale 3 for the mixed scores (CV log-loss
  0.268 vs 0.285 for the SVM alone); about a tenth more fit time.

Usage::

    python benchmarks/bench_classification.py [--repeat 3] [--full] [--skip-combinations]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lexi_pipelines.classification.corpus import NewsgroupsCorpus, load_20newsgroups
from lexi_pipelines.classification.metrics import evaluate
from lexi_pipelines.classification.pipeline import PipelineConfig, build_pipeline
from lexi_pipelines.classification.plugins import KINDS, registry

# Per-group caps (train, test) for the plugins that are slow on CPU, unless --full.
SUBSETS: dict[str, tuple[int, int]] = {"sbert": (50, 25), "transformer": (15, 15)}


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times = []
    result: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def subset(corpus: NewsgroupsCorpus, per_class: tuple[int, int]) -> NewsgroupsCorpus:
    from lexi_pipelines.classification.corpus import Split

    parts = []
    for split, cap in ((corpus.train, per_class[0]), (corpus.test, per_class[1])):
        seen: dict[str, int] = {}
        out = Split()
        for text, label in zip(split.texts, split.labels, strict=True):
            if seen.get(label, 0) < cap:
                seen[label] = seen.get(label, 0) + 1
                out.texts.append(text)
                out.labels.append(label)
        parts.append(out)
    return NewsgroupsCorpus(train=parts[0], test=parts[1])


def default_vs_baseline(corpus: NewsgroupsCorpus, repeat: int) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    train, test = corpus.train, corpus.test
    base_times, ours_times, predict_rates = [], [], []
    base_acc = base_f1 = acc = f1 = 0.0
    for _ in range(repeat):  # interleaved so load changes hit both alike
        start = time.perf_counter()
        vectorizer = TfidfVectorizer()
        svm = LinearSVC().fit(vectorizer.fit_transform(train.texts), train.labels)
        base_times.append(time.perf_counter() - start)
        predicted = [str(p) for p in svm.predict(vectorizer.transform(test.texts))]
        base = evaluate(test.labels, predicted)
        base_acc, base_f1 = base.accuracy, base.macro_f1

        pipeline = build_pipeline()
        start = time.perf_counter()
        pipeline.fit(train.texts, train.labels)
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        labels, _ = pipeline.predict(test.texts)
        predict_rates.append(len(test) / (time.perf_counter() - start))
        report = evaluate(test.labels, labels, pipeline.classes)
        acc, f1 = report.accuracy, report.macro_f1
    ours, base_t, rate = (
        statistics.median(ours_times),
        statistics.median(base_times),
        statistics.median(predict_rates),
    )
    print(f"default pipeline: {PipelineConfig().validate().to_dict()}")
    print(f"  train seconds    {ours:7.2f}   (runs: {', '.join(f'{t:.2f}' for t in ours_times)})")
    print(f"  accuracy         {acc:7.4f}   macro-F1 {f1:.4f}")
    print(
        f"  predictions/s    {rate:7.0f}   (runs: {', '.join(f'{r:.0f}' for r in predict_rates)})"
    )
    print("baseline TfidfVectorizer() + LinearSVC():")
    print(f"  train seconds    {base_t:7.2f}   (runs: {', '.join(f'{t:.2f}' for t in base_times)})")
    print(f"  accuracy         {base_acc:7.4f}   macro-F1 {base_f1:.4f}")
    print(f"ratios: time {ours / base_t:.2f}x (target <= 1.2), accuracy {acc - base_acc:+.4f}")
    checks = {
        "accuracy >= 0.87": acc >= 0.87,
        "train <= 10 s": ours <= 10,
        "train <= 1.2x baseline": ours <= 1.2 * base_t,
        "predictions/s >= 5000": rate >= 5000,
    }
    print("targets: " + ", ".join(f"{k}: {'ok' if v else 'MISSED'}" for k, v in checks.items()))

    # Not the default (3x the fit time): shown for the accuracy/time trade-off only.
    bigrams = build_pipeline(PipelineConfig(features_params={"ngram_max": 2, "min_df": 2}))
    bigrams.fit(train.texts, train.labels)
    labels, _ = bigrams.predict(test.texts)
    report = evaluate(test.labels, labels, bigrams.classes)
    print(
        f"variant tfidf ngram_max=2 min_df=2 (not default): train {bigrams.fit_seconds:.2f} s, "
        f"accuracy {report.accuracy:.4f}, macro-F1 {report.macro_f1:.4f}"
    )


def combinations(corpus: NewsgroupsCorpus, full: bool) -> None:
    smaller = {name: subset(corpus, caps) for name, caps in SUBSETS.items()}
    print()
    if not full:
        print(
            "slow on CPU, so on a subset (--full runs them on everything): "
            + "; ".join(
                f"{name}: {caps[0]} train / {caps[1]} test posts per group "
                f"({len(smaller[name].train)} / {len(smaller[name].test)})"
                for name, caps in SUBSETS.items()
            )
        )
    unavailable = [
        f"{spec.kind} {spec.name} ({spec.install_hint})"
        for kind in KINDS
        for spec in registry.specs(kind)
        if not spec.is_available()
    ]
    if unavailable:
        print("not installed: " + "; ".join(unavailable))
    print(
        f"{'tokenizer':12} {'features':9} {'classifier':12} {'data':7} "
        f"{'train s':>8} {'pred/s':>8} {'accuracy':>9} {'macro-F1':>9}"
    )
    rows = []
    for tok, feat, clf in itertools.product(
        registry.available("tokenizer"),
        registry.available("features"),
        registry.available("classifier"),
    ):
        if clf == "transformer" and (tok, feat) != ("unicode", "tfidf"):
            continue  # reads raw text: tokenizer and features unused
        if feat == "sbert" and tok != "unicode":
            continue  # reads raw text: the tokenizer is unused
        slow = [name for name in (clf, feat) if name in SUBSETS]
        data = corpus if full or not slow else smaller[slow[0]]
        config = PipelineConfig(tokenizer=tok, features=feat, classifier=clf)
        pipeline = build_pipeline(config)
        pipeline.fit(data.train.texts, data.train.labels)
        start = time.perf_counter()
        labels, _ = pipeline.predict(data.test.texts)
        rate = len(data.test) / (time.perf_counter() - start)
        report = evaluate(data.test.labels, labels, pipeline.classes)
        shown = ("(unused)", "(unused)") if clf == "transformer" else (tok, feat)
        if feat == "sbert":
            shown = ("(unused)", feat)
        rows.append(
            (
                *shown,
                clf,
                "full" if data is corpus else "subset",
                pipeline.fit_seconds or 0.0,
                rate,
                report.accuracy,
                report.macro_f1,
            )
        )
        print(
            f"{rows[-1][0]:12} {rows[-1][1]:9} {clf:12} {rows[-1][3]:7} "
            f"{rows[-1][4]:8.2f} {rate:8.0f} {report.accuracy:9.4f} {report.macro_f1:9.4f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--data", default=None, help="20news-bydate.tar.gz or its folder")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="slow plugins on all the data")
    parser.add_argument("--skip-combinations", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    corpus = load_20newsgroups(args.data)
    print(
        f"20 Newsgroups bydate: {len(corpus.train)} train / {len(corpus.test)} test, "
        f"{len(corpus.categories)} groups, headers kept (loaded in "
        f"{time.perf_counter() - start:.1f} s)"
    )
    default_vs_baseline(corpus, args.repeat)
    if not args.skip_combinations:
        combinations(corpus, args.full)


if __name__ == "__main__":
    main()
