"""A word-level tokenizer over the toy world's vocabulary, with Phi-3's chat tokens and template.

Built with the ``tokenizers`` library (WordLevel model, whitespace pre-tokenizer) and wrapped
in a ``PreTrainedTokenizerFast`` saved with ``save_pretrained``, so
``AutoTokenizer.from_pretrained(folder)`` loads it offline. Texts are lower-case words separated
by single spaces, so ``decode(encode(text)) == text`` for every world text.

The chat template is Phi-3's (microsoft/Phi-3-medium-4k-instruct)::

    <|user|>\\n{user}<|end|>\\n<|assistant|>\\n{assistant}<|end|>\\n ... <|endoftext|>

with ``<|assistant|>\\n`` appended for a generation prompt and ``<|endoftext|>`` after a
finished conversation. As in Phi-3, the pad token is the EOS token (``<|endoftext|>``).
Generation stops on ``<|end|>`` as well, by the harness's general rule (:mod:`harness.stop`:
the end-of-turn token the template writes, and the SFT model's generation_config).
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

UNK, EOS = "<unk>", "<|endoftext|>"
CHAT_TOKENS = ["<|user|>", "<|assistant|>", "<|end|>", "<|system|>"]
SPECIAL_TOKENS = [UNK, EOS, *CHAT_TOKENS]

# Phi-3's own template (tokenizer_config.json of Phi-3-medium-4k-instruct).
PHI3_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'assistant' %}"
    "{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"
)


def build_tokenizer(words: list[str]) -> PreTrainedTokenizerFast:
    """A fast tokenizer whose vocabulary is SPECIAL_TOKENS followed by ``words`` (in order)."""
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for w in words:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    # WordPiece's decoder joins tokens with single spaces (no "##" in this vocabulary).
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token=UNK,
        eos_token=EOS,
        pad_token=EOS,
        additional_special_tokens=CHAT_TOKENS,
        clean_up_tokenization_spaces=False,
        model_max_length=4096,
    )
    fast.chat_template = PHI3_CHAT_TEMPLATE
    return fast


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, folder: str | Path) -> None:
    tokenizer.save_pretrained(str(folder))

