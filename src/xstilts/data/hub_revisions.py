"""Pinned Hugging Face hub revisions, verified from the hub's public commit pages (see EVIDENCE).

Levels of evidence, kept apart on purpose:

* ``REVISIONS`` -- a full 40-hex sha on the dataset's *main* branch, at or after its conversion to
  Parquet, that was seen on a huggingface.co page (commit / tree URL), or whose short sha is shown on
  the hub's main-branch tree/commits page and whose full form appears in public code pinning that repo.
  None of these is a ``refs/convert/parquet`` (``parquet-converter`` bot) commit.
* ``CODE_PINNED`` -- a full sha that several public projects pin and load as Parquet (some read the
  main-branch file layout ``<config>/<split>-00000-of-0000N.parquet`` at that sha), but that was *not*
  seen on a hub page here. Probably fine; confirm with ``HfApi().dataset_info(repo, revision=sha)``.
* ``SCRIPT_ONLY`` -- repos whose main branch was seen holding only a loading script (unusable with
  ``datasets`` >= 4), with what else exists (``refs/convert/parquet``, open conversion PRs, mirrors).
* ``UNRESOLVED`` -- Parquet on main, but no full sha found.

Evidence was gathered from stored copies of public pages; it may lag the live hub.
"""

from __future__ import annotations

REVISIONS: dict[str, str] = {
    "nyu-mll/glue": "bcdcba79d07bc864c1c254ccfcedcce55bcc9a8c",
    "google/xtreme": "ec5f1f46e9af79639a90684a7a70a956c4998f04",
    "facebook/xnli": "b8dd5d7af51114dbda02c0e3f6133f332186418e",
    "nyu-mll/multi_nli": "da70db2af9d09693783c3320c4249840212ee221",
    "stanfordnlp/snli": "cdb5c3d5eed6ead6e5a341c8e56e669bb666725b",
    "facebook/anli": "8e4813d81f46d313dac7892e1c28076917cfcdf9",
    "rajpurkar/squad_v2": "80596c4f2b9ffcd716039dfc7e564c4e491802ec",
    "google-research-datasets/tydiqa": "da78f23f9119363459acbaf46bf89426ff26c259",
}

CODE_PINNED: dict[str, str] = {
    "google-research-datasets/paws-x": "4cd8187c404bda33cb1f62b49b001115862acf37",
    "rajpurkar/squad": "7b6d24c440a36b6815f21b70d25016731768db1f",
    "google/xquad": "51adfef1c1287aab1d2d91b5bead9bcfb9c68583",
    "tau/commonsense_qa": "94630fe30dad47192a8546eb75f094926d47e155",
    "Rowan/hellaswag": "218ec52e09a7e7462a5400043bb9a69a41d06b76",
}

EVIDENCE: dict[str, str] = {
    "nyu-mll/glue": (
        "https://huggingface.co/datasets/glue/tree/main shows head bcdcba7 'Fix metadata in dataset card"
        " (#19)'"
        " by albertvillanova (HF staff), after 'Convert dataset to Parquet (#16)'; full sha in public code,"
        " e.g. hf://datasets/nyu-mll/glue@bcdcba79d07bc864c1c254ccfcedcce55bcc9a8c/"
        "mrpc/train-00000-of-00001.parquet"
        " and datasets cache paths glue/mrpc/0.0.0/bcdcba79.... The conversion commit itself,"
        " a3f3ab759b9d7018046ce361f115ef38276d2e1e 'Convert dataset to Parquet (#16)', is seen in full at"
        " https://huggingface.co/datasets/nyu-mll/glue/tree/a3f3ab759b9d7018046ce361f115ef38276d2e1e/mnli"
    ),
    "google/xtreme": (
        "https://huggingface.co/datasets/google/xtreme/tree/main/PAN-X.af shows ec5f1f4 'Convert dataset to"
        " Parquet (#9)' by lhoestq (HF staff, verified); full sha pinned in public code"
        " (dataset_id='google/xtreme', revision='ec5f1f46e9af...', config='MLQA.en.en'). The per-config"
        " 'Add <config> data files' commits (e.g. 1ed4149b110f0edb04dac2aa44ee7e48d66b9b38) belong to the PR"
        " branch that was squashed into ec5f1f4; later commits on main may exist."
    ),
    "facebook/xnli": (
        "https://huggingface.co/datasets/facebook/xnli/tree/b8dd5d7af51114dbda02c0e3f6133f332186418e"
        " 'Convert dataset to Parquet (#10)' by albertvillanova (HF staff); also head of tree/main/<lang>"
        " pages"
    ),
    "nyu-mll/multi_nli": (
        "https://www.huggingface.co/datasets/nyu-mll/multi_nli/tree/main shows head da70db2 'Convert dataset"
        " to"
        " Parquet (#5)' by albertvillanova (HF staff), 15 commits; full sha pinned in public code with file"
        " data/train-00000-of-00001.parquet"
    ),
    "stanfordnlp/snli": (
        "https://huggingface.co/datasets/stanfordnlp/snli/commit/cdb5c3d5eed6ead6e5a341c8e56e669bb666725b"
        " 'Convert dataset to Parquet (#6)' (adds plain_text/{train,validation,test}-00000-of-00001.parquet,"
        " deletes snli.py)"
    ),
    "facebook/anli": (
        "https://huggingface.co/datasets/facebook/anli/commit/8e4813d81f46d313dac7892e1c28076917cfcdf9"
        " 'Convert dataset to Parquet (#5)' (adds plain_text/<split>-00000-of-00001.parquet, deletes"
        " anli.py); also head of tree/main/plain_text"
    ),
    "rajpurkar/squad_v2": (
        "https://huggingface.co/datasets/rajpurkar/squad_v2/commit/80596c4f2b9ffcd716039dfc7e564c4e491802ec"
        " 'Convert dataset to Parquet (#6)' (adds squad_v2/{train,validation}-00000-of-00001.parquet,"
        " deletes squad_v2.py)"
    ),
    "google-research-datasets/tydiqa": (
        "https://huggingface.co/datasets/google-research-datasets/tydiqa/commits/main/primary_task/"
        "train-00010-of-00012.parquet shows da78f23 'Convert dataset to Parquet (#3)' by albertvillanova"
        " (HF staff, verified); full sha in public code incl. the URL"
        " https://huggingface.co/datasets/google-research-datasets/tydiqa/tree/"
        "da78f23f9119363459acbaf46bf89426ff26c259/primary_task"
        " (636eb9785c3332205c0e8ae31af18af177e63701 'Convert dataset to Parquet' is the PR-branch commit)"
    ),
    "google-research-datasets/paws-x": (
        "CODE ONLY: pinned by several public projects (REVISIONS dicts, 'without executing dataset code') and"
        " loaded as Parquet; no hub commit page found. Card (2024-01 mirror) shows Parquet-style dataset_info"
    ),
    "rajpurkar/squad": (
        "CODE ONLY: pinned by many public projects; datasets cache path squad/plain_text/0.0.0/7b6d24c4..."
        " (no-script builder keyed by hub sha, config 'plain_text'); no hub commit page found"
    ),
    "google/xquad": (
        "CODE ONLY: pinned by MTEB XQuADRetrieval and others; one project hf_hub_download()s"
        " xquad.<lang>/validation-00000-of-00001.parquet at this sha (main-branch layout, not refs/convert)."
        " Hub page for google/xquad shows 'Formats: parquet'; no commit page found"
    ),
    "tau/commonsense_qa": (
        "CODE ONLY: pinned in public code with hf_hub_download path data/train-00000-of-00001.parquet at this"
        " sha; no hub commit page found"
    ),
    "Rowan/hellaswag": (
        "CODE ONLY, UNCERTAIN: several projects pin Rowan/hellaswag@218ec52e... and one reads"
        " data/train-*.parquet from that snapshot, which suggests main was converted later. But the stored"
        " hub pages show main without a 'Formats: parquet' badge and the conversion as community PR #7"
        " (davzoku, 9c75cc00ec2e1f93893cbd25ba617ee30eb70d88 on refs/pr/7, not seen merged)."
        " Check dataset_info before relying on it"
    ),
}

SCRIPT_ONLY: dict[str, str] = {
    "allenai/cosmos_qa": (
        "main (e.g. 28d9d5e2aae025e73e11177891a88dba51190013) holds only cosmos_qa.py per public code notes;"
        " refs/convert/parquet exists (parquet-converter commit ed50fe83db62b355759053b1cd5eef344ee371e0,"
        " files default/{train,validation,test}/0000.parquet) -- a bot branch, not main"
    ),
    "universalner/universal_ner": (
        "main head 80e4090960f177cc01a3154b9c37bd7ff36dc5e3 'Update README.md (#1)' holds universal_ner.py +"
        " README only (https://huggingface.co/datasets/universalner/universal_ner/tree/main). Parquet mirror:"
        " BramVanroy/universal_ner (same configs/features, card uses datasets>=4 'list:' features; sha not"
        " found)"
    ),
    "universal-dependencies/universal_dependencies": (
        "main is script-based (no Parquet on main; commul/universal_dependencies not found)."
        " refs/convert/parquet"
        " has <config>/universal_dependencies-<split>.parquet (parquet-converter). For UD POS use"
        " google/xtreme udpos.<Language> configs instead"
    ),
    "facebook/mlqa": (
        "UNCERTAIN: stored hub pages show main without a Parquet badge; an HF-staff PR 'Convert dataset to"
        " Parquet' (#5, SaylorTwift) exists"
        " (https://huggingface.co/datasets/facebook/mlqa/discussions/5/files)"
        " but its merge and sha were not seen. refs/convert/parquet exists. google/xtreme MLQA.<ctx>.<q>"
        " configs are a verified Parquet alternative"
    ),
}

UNRESOLVED: dict[str, str] = {
    "unimelb-nlp/wikiann": (
        "hub pages show 'Formats: parquet' for main, but only refs/convert/parquet (parquet-converter)"
        " commits"
        " were found; no main-branch sha. google/xtreme PAN-X.<lang> is the same data with a verified pin"
    ),
}

_QA_FEATURES = (
    "id: string, title: string, context: string, question: string,"
    " answers: {text: list[string], answer_start: list[int32]}"
)
_NLI3 = "ClassLabel[entailment, neutral, contradiction]"
_NER7 = "ClassLabel[O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC]"
_UPOS = (
    "ClassLabel[ADJ, ADP, ADV, AUX, CCONJ, DET, INTJ, NOUN, NUM, PART, PRON, PROPN, PUNCT, SCONJ, SYM,"
    " VERB, X]"
)

CONFIGS: dict[str, dict] = {
    "google/xtreme": {
        "configs": {
            "XNLI": {
                "splits": ["validation", "test"],
                "features": "language, sentence1, sentence2, gold_label: string (labels as strings)",
            },
            "tydiqa": {"splits": ["train", "validation"], "features": _QA_FEATURES},
            "SQuAD": {"splits": ["train", "validation"], "features": _QA_FEATURES},
            "XQuAD.<lang>": {
                "splits": ["validation"],
                "features": "id, context, question, answers{text, answer_start}",
                "langs": "ar de el en es hi ru th tr vi zh",
            },
            "MLQA.<ctx>.<q>": {
                "splits": ["validation", "test"],
                "features": _QA_FEATURES,
                "langs": "ar de en es hi vi zh (all 49 pairs)",
            },
            "PAN-X.<lang>": {
                "splits": ["train", "validation", "test"],
                "features": f"tokens: list[string], ner_tags: list[{_NER7}], langs: list[string]",
                "note": "PAN-X.de train has 20000 rows (seen in a public walkthrough)",
            },
            "PAWS-X.<lang>": {
                "splits": ["train", "validation", "test"],
                "features": "sentence1, sentence2, label: string ('0'/'1')",
                "langs": "de en es fr ja ko zh",
            },
            "udpos.<LanguageName>": {
                "splits": ["train", "validation", "test"],
                "features": f"tokens: list[string], pos_tags: list[{_UPOS}]",
                "note": "English-name suffix, e.g. udpos.German; some languages are test-only",
            },
            "bucc18.<lang>": {
                "splits": ["validation", "test"],
                "features": "source_sentence, target_sentence, source_lang, target_lang",
                "langs": "de fr ru zh",
            },
            "tatoeba.<iso3>": {
                "splits": ["validation"],
                "features": "source_sentence, target_sentence, source_lang, target_lang",
                "note": "e.g. tatoeba.deu",
            },
        },
        "source": "config names from hub commit titles ('Add PAN-X.de data files', 'Add XQuAD.de data files',"
        " 'Add PAWS-X.de data files', 'Add XNLI data files', 'Add SQuAD data files'); features from the"
        " dataset card / former loading script -- verify string-vs-ClassLabel labels on first load",
    },
    "facebook/xnli": {
        "configs": "ar bg de el en es fr hi ru sw th tr ur vi zh, all_languages",
        "splits": ["train", "validation", "test"],
        "features": f"premise: string, hypothesis: string, label: {_NLI3}",
        "note": (
            "all_languages: premise is Translation (dict lang->str), hypothesis is"
            " TranslationVariableLanguages"
        ),
        "files": "<config>/{train,validation,test}-0000N-of-0000M.parquet",
    },
    "google-research-datasets/paws-x": {
        "configs": "de en es fr ja ko zh",
        "splits": ["train", "validation", "test"],
        "features": "id: int32, sentence1: string, sentence2: string, label: ClassLabel['0', '1']",
        "sizes": "train 49401, validation 2000, test 2000 per language (card)",
    },
    "nyu-mll/glue": {
        "configs": "ax cola mnli mnli_matched mnli_mismatched mrpc qnli qqp rte sst2 stsb wnli",
        "splits": {
            "mnli": [
                "train",
                "validation_matched",
                "validation_mismatched",
                "test_matched",
                "test_mismatched",
            ],
            "mnli_matched": ["validation", "test"],
            "mnli_mismatched": ["validation", "test"],
            "ax": ["test"],
            "other": ["train", "validation", "test"],
        },
        "features": {
            "mnli/ax": f"premise, hypothesis: string, label: {_NLI3}, idx: int32",
            "cola/sst2": "sentence: string, label: ClassLabel, idx: int32",
            "mrpc/stsb/rte/wnli": "sentence1, sentence2: string, label (stsb: float32), idx: int32",
            "qqp": "question1, question2: string, label, idx",
            "qnli": "question, sentence: string, label, idx",
        },
        "note": "test labels are -1",
    },
    "nyu-mll/multi_nli": {
        "configs": "default",
        "splits": ["train", "validation_matched", "validation_mismatched"],
        "features": (
            "promptID: int32, pairID: string, premise, premise_binary_parse, premise_parse, hypothesis,"
            f" hypothesis_binary_parse, hypothesis_parse, genre: string, label: {_NLI3}"
        ),
        "files": "data/{train,validation_matched,validation_mismatched}-00000-of-00001.parquet",
    },
    "stanfordnlp/snli": {
        "configs": "plain_text",
        "splits": ["train", "validation", "test"],
        "features": f"premise: string, hypothesis: string, label: {_NLI3} (-1 = no gold label)",
        "sizes": "train 550152, validation 10000, test 10000",
    },
    "facebook/anli": {
        "configs": "plain_text",
        "splits": [
            "train_r1",
            "dev_r1",
            "test_r1",
            "train_r2",
            "dev_r2",
            "test_r2",
            "train_r3",
            "dev_r3",
            "test_r3",
        ],
        "features": f"uid: string, premise: string, hypothesis: string, label: {_NLI3}, reason: string",
        "sizes": "train_r1 16946, train_r2 45460, train_r3 100459, each dev/test r1-r2 1000",
    },
    "rajpurkar/squad": {"configs": "plain_text", "splits": ["train", "validation"], "features": _QA_FEATURES},
    "rajpurkar/squad_v2": {
        "configs": "squad_v2",
        "splits": ["train", "validation"],
        "features": _QA_FEATURES,
        "note": "unanswerable questions have empty answers lists; train 130319",
    },
    "Rowan/hellaswag": {
        "configs": "default",
        "splits": ["train", "validation", "test"],
        "features": "ind: int32, activity_label, ctx_a, ctx_b, ctx: string, endings: list[string], source_id,"
        " split, split_type, label: string ('' on test)",
        "note": "validation 10042",
    },
    "allenai/cosmos_qa": {
        "configs": "default",
        "splits": ["train", "validation", "test"],
        "features": "id, context, question, answer0, answer1, answer2, answer3: string, label: int32",
    },
    "tau/commonsense_qa": {
        "configs": "default",
        "splits": ["train", "validation", "test"],
        "features": (
            "id, question, question_concept: string, choices: {label: list[string], text: list[string]},"
            " answerKey: string ('' on test)"
        ),
        "files": "data/{train,validation,test}-00000-of-00001.parquet",
    },
    "unimelb-nlp/wikiann": {
        "configs": "one per language code, e.g. de, en (176 languages)",
        "splits": ["validation", "test", "train"],
        "features": (
            f"tokens: list[string], ner_tags: list[{_NER7}], langs: list[string], spans: list[string]"
        ),
    },
    "google/xquad": {
        "configs": "xquad.{ar,de,el,en,es,hi,ro,ru,th,tr,vi,zh}",
        "splits": ["validation"],
        "features": "id, context, question: string, answers: {text: list[string], answer_start: list[int32]}",
        "files": "xquad.<lang>/validation-00000-of-00001.parquet",
        "sizes": "1190 per language",
    },
    "facebook/mlqa": {
        "configs": "mlqa.<ctx>.<q> (ar de en es hi vi zh), mlqa-translate-train.<l>, mlqa-translate-test.<l>",
        "splits": {
            "mlqa.*": ["validation", "test"],
            "mlqa-translate-train.*": ["train", "validation"],
            "mlqa-translate-test.*": ["test"],
        },
        "features": (
            "id, title, context, question: string, answers: {answer_start: list[int32], text: list[string]}"
        ),
    },
    "google-research-datasets/tydiqa": {
        "configs": "primary_task, secondary_task",
        "splits": ["train", "validation"],
        "features": {
            "secondary_task": _QA_FEATURES + " (GoldP; language encoded in id prefix, e.g. 'swahili-...')",
            "primary_task": "passage_answer_candidates, question_text, document_title, language, annotations,"
            " document_plaintext, document_url",
        },
        "files": "primary_task/train-000NN-of-00012.parquet, secondary_task/...",
    },
    "universalner/universal_ner": {
        "configs": "ceb_gja da_ddt de_pud en_ewt en_pud hr_set pt_bosque pt_pud ru_pud sk_snk sr_set sv_pud"
        " sv_talbanken tl_trg tl_ugnayan zh_gsd zh_gsdsimp zh_pud",
        "splits": ["train", "validation", "test"],
        "features": f"idx: string, text: string, tokens: list[string], ner_tags: list[{_NER7}],"
        " annotator: list[string]",
        "note": "PUD/ceb/tl configs are test-only; config list partly from memory of the card -- verify",
    },
    "universal-dependencies/universal_dependencies": {
        "configs": "<lang>_<treebank>, e.g. de_gsd, de_hdt, en_ewt",
        "splits": ["train", "validation", "test"],
        "features": f"idx, text: string, tokens, lemmas: list[string], upos: list[{_UPOS}], xpos, feats,"
        " head, deprel, deps, misc: list[string]",
    },
}
