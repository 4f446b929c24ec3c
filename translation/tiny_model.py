"""A tiny Marian translation model trained in seconds on a small parallel set, for tests and benchmarks.

It runs the real load → generate → post-process path of the engines without downloading weights: a
Unigram tokenizer (tokenizers) wrapped as a transformers fast tokenizer, a small `MarianMTModel`, a few
hundred optimiser steps on CPU, then `save_pretrained`. Training text goes through the same protection as
translation, so the model learns to copy the `<0>` tokens the way real models copy rare tokens."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from tokenizers.processors import TemplateProcessing
from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

from translation.protect import protect, token

SPECIALS = ["</s>", "<unk>", "<pad>"]


def protected_pair(source: str, target: str, keep: Sequence[str] = ()) -> tuple[str, str]:
    """Both sides with the source's tokens, so that the model learns to carry them across."""
    shielded = protect(source, keep)
    for index, span in sorted(enumerate(shielded.spans), key=lambda item: -len(item[1].value)):
        target = target.replace(span.value, token(index), 1)
    return shielded.text, target


def build_tokenizer(texts: Sequence[str], vocab_size: int = 1200) -> PreTrainedTokenizerFast:
    """A subword (Unigram) tokenizer over the training text, made deterministic: the trainer breaks ties
    between equally frequent pieces with tiny score offsets in hash order, so the scores are rounded and the
    pieces sorted. The tiny model is then the same on every run."""
    trained = Tokenizer(models.Unigram())
    trained.normalizer = normalizers.NFC()
    trained.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=SPECIALS[:2], unk_token="<unk>", max_piece_length=12
    )
    trained.train_from_iterator(texts, trainer)
    scores = {piece: round(score, 2) for piece, score in json.loads(trained.to_str())["model"]["vocab"]}
    pieces = sorted((piece, score) for piece, score in scores.items() if piece not in SPECIALS)
    # Marian keeps <pad> as the last id: the decoder starts from it, and CTranslate2 drops it on conversion.
    vocabulary = [("</s>", 0.0), ("<unk>", 0.0), *pieces, ("<pad>", 0.0)]
    tokenizer = Tokenizer(models.Unigram(vocabulary, unk_id=1))
    tokenizer.normalizer = trained.normalizer
    tokenizer.pre_tokenizer = trained.pre_tokenizer
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.add_special_tokens(SPECIALS)
    tokenizer.post_processor = TemplateProcessing(single="$A </s>", pair="$A $B </s>", special_tokens=[("</s>", 0)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="</s>", unk_token="<unk>", pad_token="<pad>")


def train_tiny_marian(
    pairs: Sequence[tuple[str, str]],
    output_dir: Path,
    steps: int = 600,
    batch_size: int = 32,
    *,
    d_model: int = 128,
    seed: int = 0,
    keep: Sequence[str] = (),
    learning_rate: float = 3e-3,
) -> Path:
    """Train on `pairs` (source, target) and save model and tokenizer to `output_dir`."""
    random.seed(seed)
    torch.manual_seed(seed)
    data = [protected_pair(source, target, keep) for source, target in pairs]
    tokenizer = build_tokenizer([text for pair in data for text in pair])
    vocab = len(tokenizer)
    config = MarianConfig(
        vocab_size=vocab,
        decoder_vocab_size=vocab,
        d_model=d_model,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=2 * d_model,
        decoder_ffn_dim=2 * d_model,
        max_position_embeddings=256,
        pad_token_id=vocab - 1,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=vocab - 1,
        forced_eos_token_id=tokenizer.eos_token_id,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        share_encoder_decoder_embeddings=True,
    )
    model = MarianMTModel(config)
    embeddings = model.get_input_embeddings().weight
    assert isinstance(embeddings, torch.Tensor)
    pad_row = embeddings[config.pad_token_id]
    _zero(pad_row)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=learning_rate, total_steps=steps, pct_start=0.1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is fastest, and the machine is shared
    try:
        model.train()
        for _ in range(steps):
            batch = random.sample(data, min(batch_size, len(data)))
            sources, targets = [s for s, _ in batch], [t for _, t in batch]
            inputs = tokenizer(sources, text_target=targets, padding=True, return_tensors="pt")
            inputs["labels"][inputs["labels"] == config.pad_token_id] = -100
            loss = model(**inputs).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            # The decoder starts from the <pad> embedding; Marian (and CTranslate2's converter) expect it zero.
            _zero(pad_row)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    output_dir = Path(output_dir)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return output_dir


def _zero(row: torch.Tensor) -> None:
    with torch.no_grad():
        row.zero_()
